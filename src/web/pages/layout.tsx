/**
 * The frame of every dashboard page: the stylesheet, the navigation and the sign-out form. No
 * script and no inline style: the Content-Security-Policy allows neither.
 */
import type { ComponentChildren } from 'preact';
import { DASHBOARD_PATH } from '../paths.js';

export interface Viewer {
  name: string;
  email: string;
  organizationName: string;
  csrfToken: string;
}

export type Section = 'refunds' | 'approvals' | 'policy' | 'keys';

const SECTIONS: ReadonlyArray<[Section, string, string]> = [
  ['refunds', 'Refunds', `${DASHBOARD_PATH}/refunds`],
  ['approvals', 'Approvals', `${DASHBOARD_PATH}/approvals`],
  ['policy', 'Policy', `${DASHBOARD_PATH}/policy`],
  ['keys', 'API keys', `${DASHBOARD_PATH}/keys`],
];

export function Document(props: { title: string; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · RefundKit`}</title>
        <link rel="stylesheet" href={`${DASHBOARD_PATH}/style.css`} />
      </head>
      <body>{props.children}</body>
    </html>
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

export function Layout(props: { title: string; viewer: Viewer; section?: Section; children: ComponentChildren }) {
  return (
    <Document title={props.title}>
      <header class="top">
        <a class="brand" href={`${DASHBOARD_PATH}/refunds`}>
          RefundKit
        </a>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map(([key, label, href]) => (
              <li key={key}>
                <a href={href} aria-current={props.section === key ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <form class="who" method="post" action={`${DASHBOARD_PATH}/sign-out`}>
          <span>
            {props.viewer.name} · {props.viewer.organizationName}
          </span>
          <CsrfField token={props.viewer.csrfToken} />
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main id="main">
        <h1>{props.title}</h1>
        {props.children}
      </main>
    </Document>
  );
}

export function Notice(props: { kind: 'error' | 'ok'; children: ComponentChildren }) {
  return (
    <p class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </p>
  );
}
