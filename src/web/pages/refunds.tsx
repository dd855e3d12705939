import { formatMoney } from '../../domain/guardrails/confirmation.js';
import type { ApprovalRequest } from '../../domain/guardrails/approval.js';
import type { RefundEvent } from '../../domain/ports.js';
import { isCancellable, REFUND_STATUSES, type Refund } from '../../domain/refund.js';
import type { RefundPage } from '../../domain/refund-service.js';
import { DASHBOARD_PATH } from '../paths.js';
import { Layout, Notice, type Viewer } from './layout.js';

export interface RefundFilters {
  status?: string;
  processor?: string;
  limit: number;
}

export const PAGE_SIZES = [10, 25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 25;

function pageHref(filters: RefundFilters, offset: number): string {
  const query = new URLSearchParams();
  if (filters.status !== undefined) query.set('status', filters.status);
  if (filters.processor !== undefined) query.set('processor', filters.processor);
  if (filters.limit !== DEFAULT_PAGE_SIZE) query.set('limit', String(filters.limit));
  if (offset > 0) query.set('offset', String(offset));
  const text = query.toString();
  return `${DASHBOARD_PATH}/refunds${text === '' ? '' : `?${text}`}`;
}

export function Status(props: { status: string }) {
  return <span class="status">{props.status}</span>;
}

export function RefundsPage(props: { viewer: Viewer; page: RefundPage; filters: RefundFilters; processors: readonly string[]; error?: string }) {
  const { page, filters } = props;
  return (
    <Layout title="Refunds" viewer={props.viewer} section="refunds">
      <form class="filters" method="get" action={`${DASHBOARD_PATH}/refunds`}>
        <div>
          <label for="status">Status</label>
          <select id="status" name="status">
            <option value="">any</option>
            {REFUND_STATUSES.map((status) => (
              <option key={status} value={status} selected={filters.status === status}>
                {status}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="processor">Processor</label>
          <select id="processor" name="processor">
            <option value="">any</option>
            {props.processors.map((processor) => (
              <option key={processor} value={processor} selected={filters.processor === processor}>
                {processor}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="limit">Per page</label>
          <select id="limit" name="limit">
            {PAGE_SIZES.map((size) => (
              <option key={size} value={String(size)} selected={filters.limit === size}>
                {size}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Filter</button>
      </form>
      {props.error === undefined ? null : <Notice kind="error">{props.error}</Notice>}
      <div class="table-wrap">
        <table>
          <caption class="muted">
            Newest first · showing {page.refunds.length === 0 ? 0 : page.offset + 1}–{page.offset + page.refunds.length}
          </caption>
          <thead>
            <tr>
              <th scope="col">Refund</th>
              <th scope="col">Amount</th>
              <th scope="col">Status</th>
              <th scope="col">Processor</th>
              <th scope="col">Reason</th>
              <th scope="col">By</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {page.refunds.map((refund) => (
              <tr key={refund.id}>
                <td>
                  <a href={`${DASHBOARD_PATH}/refunds/${refund.id}`}>{refund.id}</a>
                </td>
                <td class="num">{formatMoney(refund.amount, refund.currency)}</td>
                <td>
                  <Status status={refund.status} />
                </td>
                <td>{refund.processor}</td>
                <td>{refund.reason}</td>
                <td>{refund.initiatedBy}</td>
                <td>
                  <time dateTime={refund.createdAt}>{refund.createdAt}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.refunds.length === 0 ? <p>No refunds match.</p> : null}
      <nav class="pager" aria-label="Pages">
        {page.offset > 0 ? (
          <a rel="prev" href={pageHref(filters, Math.max(0, page.offset - page.limit))}>
            ← Newer
          </a>
        ) : null}
        {page.nextOffset === null ? null : (
          <a rel="next" href={pageHref(filters, page.nextOffset)}>
            Older →
          </a>
        )}
      </nav>
    </Layout>
  );
}

function Fields(props: { refund: Refund }) {
  const r = props.refund;
  const rows: Array<[string, string]> = [
    ['id', r.id],
    ['amount', formatMoney(r.amount, r.currency)],
    ['currency', r.currency],
    ['status', r.status],
    ['processor', r.processor],
    ['externalRefundId', r.externalRefundId ?? '—'],
    ['transactionId', r.transactionId],
    ['reason', r.reason],
    ['initiatedBy', r.initiatedBy],
    ['metadata', r.metadata === null ? '—' : JSON.stringify(r.metadata)],
    ['organizationId', r.organizationId],
    ['createdAt', r.createdAt],
    ['updatedAt', r.updatedAt],
  ];
  return (
    <dl class="fields">
      {rows.map(([name, value]) => [<dt key={`t-${name}`}>{name}</dt>, <dd key={`d-${name}`}>{value}</dd>])}
    </dl>
  );
}

export function ApprovalCard(props: { approval: ApprovalRequest; keyName: string }) {
  const a = props.approval;
  return (
    <dl class="fields">
      <dt>approval</dt>
      <dd>{a.id}</dd>
      <dt>status</dt>
      <dd>
        <Status status={a.status} />
      </dd>
      <dt>requested by key</dt>
      <dd>{props.keyName}</dd>
      <dt>policy rule</dt>
      <dd>
        {a.rule}: {a.ruleMessage}
      </dd>
      <dt>requested at</dt>
      <dd>{a.createdAt}</dd>
      <dt>expires at</dt>
      <dd>{a.expiresAt}</dd>
      <dt>decided by</dt>
      <dd>{a.decidedBy ?? '—'}</dd>
      <dt>decided at</dt>
      <dd>{a.decidedAt ?? '—'}</dd>
      <dt>note</dt>
      <dd>{a.note ?? '—'}</dd>
    </dl>
  );
}

export function RefundDetailPage(props: {
  viewer: Viewer;
  refund: Refund;
  events: readonly RefundEvent[];
  approval: ApprovalRequest | null;
  keyName: string;
  notice?: { kind: 'ok' | 'error'; text: string };
}) {
  const { refund } = props;
  return (
    <Layout title={`Refund ${refund.id}`} viewer={props.viewer} section="refunds">
      {props.notice === undefined ? null : <Notice kind={props.notice.kind}>{props.notice.text}</Notice>}
      <Fields refund={refund} />
      {isCancellable(refund.status) ? (
        <p>
          <a class="button secondary" href={`${DASHBOARD_PATH}/refunds/${refund.id}/cancel`}>
            Cancel this refund…
          </a>
        </p>
      ) : null}
      <h2>Approval</h2>
      {props.approval === null ? <p>This refund needed no approval.</p> : <ApprovalCard approval={props.approval} keyName={props.keyName} />}
      <h2>Audit timeline</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Change</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {props.events.map((event) => (
              <tr key={event.id}>
                <td>
                  <time dateTime={event.createdAt}>{event.createdAt}</time>
                </td>
                <td>{event.initiatedBy}</td>
                <td>{event.from === null ? `created ${event.to}` : event.from === event.to ? event.to : `${event.from} → ${event.to}`}</td>
                <td>{event.detail ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}
