import { formatMoney } from '../../domain/guardrails/confirmation.js';
import { NOTE_MAX_LENGTH, type ApprovalRequest } from '../../domain/guardrails/approval.js';
import { DASHBOARD_PATH } from '../paths.js';
import { CsrfField, Layout, Notice, type Viewer } from './layout.js';
import { Status } from './refunds.js';

export function ApprovalsPage(props: {
  viewer: Viewer;
  open: readonly ApprovalRequest[];
  decided: readonly ApprovalRequest[];
  keyNames: ReadonlyMap<string, string>;
  notice?: { kind: 'ok' | 'error'; text: string };
}) {
  const keyName = (id: string): string => props.keyNames.get(id) ?? id;
  return (
    <Layout title="Approvals" viewer={props.viewer} section="approvals">
      {props.notice === undefined ? null : <Notice kind={props.notice.kind}>{props.notice.text}</Notice>}
      <h2>Waiting for a person (oldest first)</h2>
      {props.open.length === 0 ? <p>No agent is waiting for an approval.</p> : null}
      {props.open.map((a) => (
        <section class="card" key={a.id} aria-labelledby={`h-${a.id}`}>
          <h3 id={`h-${a.id}`}>
            {formatMoney(a.amount, a.currency)} · <a href={`${DASHBOARD_PATH}/refunds/${a.refundId}`}>{a.refundId}</a>
          </h3>
          <dl class="fields">
            <dt>reason</dt>
            <dd>{a.reason}</dd>
            <dt>transaction</dt>
            <dd>{a.transactionId}</dd>
            <dt>requested by key</dt>
            <dd>{keyName(a.requestedByKeyId)}</dd>
            <dt>policy rule</dt>
            <dd>
              {a.rule}: {a.ruleMessage}
            </dd>
            <dt>requested at</dt>
            <dd>{a.createdAt}</dd>
            <dt>expires at</dt>
            <dd>{a.expiresAt}</dd>
          </dl>
          <form method="post" action={`${DASHBOARD_PATH}/approvals/${a.id}/decide`}>
            <CsrfField token={props.viewer.csrfToken} />
            <div class="field">
              <label for={`note-${a.id}`}>Note (optional)</label>
              <input id={`note-${a.id}`} name="note" type="text" maxLength={NOTE_MAX_LENGTH} />
            </div>
            <button type="submit" name="verdict" value="approve">
              Approve {a.id}
            </button>{' '}
            <button type="submit" name="verdict" value="reject" class="danger">
              Reject {a.id}
            </button>
          </form>
        </section>
      ))}
      <h2>Decided (newest first)</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Approval</th>
              <th scope="col">Refund</th>
              <th scope="col">Amount</th>
              <th scope="col">Decision</th>
              <th scope="col">By</th>
              <th scope="col">When</th>
              <th scope="col">Note</th>
            </tr>
          </thead>
          <tbody>
            {props.decided.map((a) => (
              <tr key={a.id}>
                <td>{a.id}</td>
                <td>
                  <a href={`${DASHBOARD_PATH}/refunds/${a.refundId}`}>{a.refundId}</a>
                </td>
                <td class="num">{formatMoney(a.amount, a.currency)}</td>
                <td>
                  <Status status={a.status} />
                </td>
                <td>{a.decidedBy ?? ''}</td>
                <td>{a.decidedAt ?? ''}</td>
                <td>{a.note ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}
