import { DASHBOARD_PATH } from '../paths.js';
import { Document, Notice } from './layout.js';

export function SignInPage(props: { token: string; email?: string; error?: string }) {
  return (
    <Document title="Sign in">
      <main class="signin">
        <h1>Sign in to RefundKit</h1>
        {props.error === undefined ? null : <Notice kind="error">{props.error}</Notice>}
        <form method="post" action={`${DASHBOARD_PATH}/sign-in`}>
          <input type="hidden" name="_csrf" value={props.token} />
          <div class="field">
            <label for="email">Email</label>
            <input id="email" name="email" type="email" autocomplete="username" required value={props.email ?? ''} />
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </div>
          <button type="submit">Sign in</button>
        </form>
        <p class="muted">Operators are created with <code>refundkit-mcp operators create</code>.</p>
      </main>
    </Document>
  );
}
