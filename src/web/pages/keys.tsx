import { SCOPES, SCOPE_NAMES, DEFAULT_KEY_SCOPES } from '../../domain/guardrails/scopes.js';
import { KEY_NAME_MAX_CHARS, keyLabel } from '../../domain/key-name.js';
import type { ApiKeyRecord } from '../../domain/ports.js';
import { DASHBOARD_PATH } from '../paths.js';
import { CsrfField, Layout, Notice, type Viewer } from './layout.js';

export function KeysPage(props: {
  viewer: Viewer;
  keys: readonly ApiKeyRecord[];
  /** A key just created: shown this once, in this response only (never in a URL). */
  created?: { key: string; record: ApiKeyRecord };
  notice?: { kind: 'ok' | 'error'; text: string };
}) {
  return (
    <Layout title="API keys" viewer={props.viewer} section="keys">
      {props.notice === undefined ? null : <Notice kind={props.notice.kind}>{props.notice.text}</Notice>}
      {props.created === undefined ? null : (
        <section class="card" aria-labelledby="new-key">
          <h2 id="new-key">New key {keyLabel(props.created.record)}</h2>
          <p>Copy it now: it is shown only this once, and only its hash is kept.</p>
          <code class="secret" id="created-key">
            {props.created.key}
          </code>
        </section>
      )}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Prefix</th>
              <th scope="col">Mode</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {props.keys.map((key) => (
              <tr key={key.id}>
                <td>{key.name ?? <em>unnamed</em>}</td>
                <td>{key.id}</td>
                <td>
                  <code>{key.displayPrefix}…</code>
                </td>
                <td>{key.mode}</td>
                <td>{key.scopes.join(', ')}</td>
                <td>{key.createdAt}</td>
                <td>
                  {key.revokedAt !== null ? (
                    `revoked ${key.revokedAt}`
                  ) : (
                    <form method="post" action={`${DASHBOARD_PATH}/keys/${key.id}/revoke`}>
                      <CsrfField token={props.viewer.csrfToken} />
                      <button type="submit" class="danger">
                        Revoke {key.name === null ? key.id : `${key.name} (${key.id})`}
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form method="post" action={`${DASHBOARD_PATH}/keys`} class="card">
          <h2>Create a key</h2>
          <CsrfField token={props.viewer.csrfToken} />
          <div class="field">
            <label for="key-name">Name</label>
            <input id="key-name" name="name" type="text" required maxLength={KEY_NAME_MAX_CHARS} placeholder="e.g. Support agent" />
          </div>
          <fieldset>
            <legend>Scopes</legend>
            {SCOPE_NAMES.map((scope) => (
              <label key={scope} title={SCOPES[scope]}>
                <input type="checkbox" name="scopes" value={scope} checked={DEFAULT_KEY_SCOPES.includes(scope)} /> {scope}
              </label>
            ))}
          </fieldset>
          <div class="field">
            <label for="mode">Mode</label>
            <select id="mode" name="mode">
              <option value="live">live</option>
              <option value="test">test</option>
            </select>
          </div>
          <button type="submit">Create key</button>
      </form>
    </Layout>
  );
}
