import { formatMoney } from '../../domain/guardrails/confirmation.js';
import type { PolicyView } from '../../domain/refund-service.js';
import { DASHBOARD_PATH } from '../paths.js';
import { CsrfField, Layout, Notice, type Viewer } from './layout.js';

export function PolicyPage(props: { viewer: Viewer; view: PolicyView; draft: string; notice?: { kind: 'ok' | 'error'; text: string } }) {
  const { policy } = props.view;
  return (
    <Layout title="Agent policy" viewer={props.viewer} section="policy">
      {props.notice === undefined ? null : <Notice kind={props.notice.kind}>{props.notice.text}</Notice>}
      <p class="muted">
        {props.view.isDefault ? 'The default policy applies (never set).' : `Set by ${props.view.updatedBy ?? '?'} at ${props.view.updatedAt ?? '?'}.`}
      </p>
      <div class="table-wrap">
        <table>
          <caption class="muted">Per currency; other currencies wait for approval</caption>
          <thead>
            <tr>
              <th scope="col">Currency</th>
              <th scope="col">Max per refund</th>
              <th scope="col">Approval above</th>
              <th scope="col">Refunds a day</th>
              <th scope="col">Amount a day</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(policy.currencies).map(([currency, limits]) => (
              <tr key={currency}>
                <td>{currency}</td>
                <td class="num">{formatMoney(limits.maxPerRefund, currency)}</td>
                <td class="num">{formatMoney(limits.approvalAbove, currency)}</td>
                <td class="num">{limits.dailyCount}</td>
                <td class="num">{formatMoney(limits.dailyAmount, currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <dl class="fields">
        <dt>reasons agents may use</dt>
        <dd>{policy.reasons.join(', ')}</dd>
        <dt>agents may cancel others' refunds</dt>
        <dd>{policy.cancelOthers ? 'yes' : 'no'}</dd>
        <dt>confirm agent writes at the client</dt>
        <dd>{policy.confirmWrites ? 'yes' : 'no'}</dd>
        <dt>approvals expire after</dt>
        <dd>{policy.approvalHours} hours</dd>
      </dl>
      <form method="post" action={`${DASHBOARD_PATH}/policy`}>
          <h2>Edit</h2>
          <CsrfField token={props.viewer.csrfToken} />
          <div class="field">
            <label for="policy">Policy (JSON; amounts in minor units: 2500 is 25.00 usd)</label>
            <textarea id="policy" name="policy" spellcheck={false}>
              {props.draft}
            </textarea>
          </div>
          <button type="submit">Save policy</button>
      </form>
    </Layout>
  );
}
