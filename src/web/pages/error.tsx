import { DASHBOARD_PATH } from '../paths.js';
import { Document } from './layout.js';

export function ErrorPage(props: { status: number; title: string; message: string }) {
  return (
    <Document title={props.title}>
      <main class="signin">
        <h1>{props.title}</h1>
        <p role="alert">{props.message}</p>
        <p>
          <a href={`${DASHBOARD_PATH}/refunds`}>Back to the dashboard</a>
        </p>
        <p class="muted">HTTP {props.status}</p>
      </main>
    </Document>
  );
}
