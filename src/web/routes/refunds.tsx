import { RefundKitError } from '../../domain/errors.js';
import type { ApprovalRequest } from '../../domain/guardrails/approval.js';
import { keyLabel } from '../../domain/key-name.js';
import { isRefundStatus } from '../../domain/refund.js';
import { LIST_LIMIT, type ListQuery } from '../../domain/schemas.js';
import { DASHBOARD_PATH } from '../paths.js';
import { CancelConfirmPage } from '../pages/cancel.js';
import { DEFAULT_PAGE_SIZE, RefundDetailPage, RefundsPage, type RefundFilters } from '../pages/refunds.js';
import { redirect, sendPage } from '../render.js';
import type { DashboardDeps } from '../context.js';
import type { DashboardRoute, RouteContext } from './route.js';

const REFUND_ID = /^ref_[a-z0-9]{12}$/;

export async function keyName(deps: DashboardDeps, organizationId: string, keyId: string): Promise<string> {
  const key = await deps.apiKeys.findById(keyId);
  return key === null || key.organizationId !== organizationId ? keyId : keyLabel(key);
}

function refundIdOf(ctx: RouteContext): string {
  const id = ctx.params.refundId ?? '';
  // Another organization's refund and a malformed id are the same answer: there is no such refund.
  if (!REFUND_ID.test(id)) throw new RefundKitError('not_found', `No refund ${id}`);
  return id;
}

export async function detail(ctx: RouteContext, refundId: string, status: number, notice?: { kind: 'ok' | 'error'; text: string }) {
  const { deps, signed } = ctx;
  const [refund, audit] = await Promise.all([deps.service.get(signed.caller, refundId), deps.service.events(signed.caller, refundId)]);
  const approval: ApprovalRequest | null = audit.approval;
  const name = approval === null ? '' : await keyName(deps, signed.organizationId, approval.requestedByKeyId);
  return sendPage(
    ctx.reply,
    status,
    <RefundDetailPage viewer={signed.viewer} refund={refund} events={audit.events} approval={approval} keyName={name} {...(notice === undefined ? {} : { notice })} />,
  );
}

/** What the detail page says after a form changed the refund; the page shows its status as it is now. */
const DONE_NOTICES: Readonly<Partial<Record<string, (refundId: string) => string>>> = {
  cancelled: (id) => `Cancelled: refund ${id} is cancelled.`,
  approved: (id) => `Approved: refund ${id} goes to its processor.`,
  rejected: (id) => `Rejected: refund ${id} is cancelled and never sent.`,
};

export function afterChange(ctx: RouteContext, refundId: string, done: 'cancelled' | 'approved' | 'rejected') {
  return redirect(ctx.reply, `${DASHBOARD_PATH}/refunds/${refundId}?done=${done}`);
}

export const REFUND_ROUTES: readonly DashboardRoute[] = [
  {
    method: 'GET',
    path: '/refunds',
    summary: 'Refunds, newest first; filters `status`, `processor`; `limit` (1–100, default 25) and `offset` page',
    handle: async (ctx) => {
      const { query, deps, signed } = ctx;
      const filters: RefundFilters = { limit: DEFAULT_PAGE_SIZE };
      const list: ListQuery = { limit: DEFAULT_PAGE_SIZE, offset: 0 };
      const status = query.get('status') ?? '';
      const processor = query.get('processor') ?? '';
      const offsetText = query.get('offset') ?? '0';
      let error: string | undefined;
      if (status !== '') {
        if (isRefundStatus(status)) list.status = filters.status = status;
        else error = `Unknown status '${status}': showing every status`;
      }
      if (processor !== '') {
        if (deps.processors.includes(processor)) list.processor = filters.processor = processor;
        else error = `Unknown processor '${processor}': showing every processor`;
      }
      const limitText = query.get('limit') ?? '';
      if (limitText !== '') {
        const limit = /^\d{1,3}$/.test(limitText) ? Number(limitText) : 0;
        if (limit >= LIST_LIMIT.min && limit <= LIST_LIMIT.max) list.limit = filters.limit = limit;
        else error = `Limit must be between ${LIST_LIMIT.min} and ${LIST_LIMIT.max}`;
      }
      if (/^\d{1,9}$/.test(offsetText)) list.offset = Number(offsetText);
      else error = 'offset must be a whole number of 0 or more';
      const page = await deps.service.list(signed.caller, list);
      return sendPage(
        ctx.reply,
        error === undefined ? 200 : 400,
        <RefundsPage viewer={signed.viewer} page={page} filters={filters} processors={deps.processors} {...(error === undefined ? {} : { error })} />,
      );
    },
  },
  {
    method: 'GET',
    path: '/refunds/:refundId',
    summary: 'One refund: every field, its audit timeline and its approval',
    handle: (ctx) => {
      const refundId = refundIdOf(ctx);
      // Where a form sent the browser after it changed something (post, redirect, get): say what.
      const done = ctx.query.get('done');
      const notice = done !== null && Object.hasOwn(DONE_NOTICES, done) ? DONE_NOTICES[done]?.(refundId) : undefined;
      return detail(ctx, refundId, 200, notice === undefined ? undefined : { kind: 'ok', text: notice });
    },
  },
  {
    method: 'GET',
    path: '/refunds/:refundId/cancel',
    summary: 'Confirm the cancellation of a pending or processing refund',
    handle: async (ctx) => {
      const refund = await ctx.deps.service.get(ctx.signed.caller, refundIdOf(ctx));
      if (refund.status !== 'pending' && refund.status !== 'processing') {
        return detail(ctx, refund.id, 409, { kind: 'error', text: `Refund cannot be cancelled — status is '${refund.status}'` });
      }
      return sendPage(ctx.reply, 200, <CancelConfirmPage viewer={ctx.signed.viewer} refund={refund} />);
    },
  },
  {
    method: 'POST',
    path: '/refunds/:refundId/cancel',
    summary: 'Cancel it (initiatedBy `dashboard`), through the same use case as REST and MCP; shows the processor\'s answer',
    handle: async (ctx) => {
      const refundId = refundIdOf(ctx);
      try {
        await ctx.deps.service.cancel(ctx.signed.caller, refundId);
      } catch (error) {
        // The processor may refuse, be unreachable or busy: say so, beside the status it has now.
        if (error instanceof RefundKitError && error.code !== 'not_found' && error.code !== 'internal_error') {
          return detail(ctx, refundId, ctx.deps.httpStatus(error.code), { kind: 'error', text: `Not cancelled: ${error.message}` });
        }
        throw error;
      }
      return afterChange(ctx, refundId, 'cancelled');
    },
  },
];

export const INDEX_PATH = `${DASHBOARD_PATH}/refunds`;
