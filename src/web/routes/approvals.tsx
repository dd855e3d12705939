import { RefundKitError } from '../../domain/errors.js';
import { NOTE_MAX_LENGTH } from '../../domain/guardrails/approval.js';
import { ApprovalsPage } from '../pages/approvals.js';
import { sendPage } from '../render.js';
import { afterChange, keyName } from './refunds.js';
import type { DashboardRoute, RouteContext } from './route.js';

const APPROVAL_ID = /^apr_[a-z0-9]{12}$/;
const SHOWN = 100;

async function inbox(ctx: RouteContext, status: number, notice?: { kind: 'ok' | 'error'; text: string }) {
  const { deps, signed } = ctx;
  const [open, all] = await Promise.all([
    deps.service.openApprovals(signed.organizationId, SHOWN),
    deps.service.listApprovals(signed.organizationId, undefined, SHOWN),
  ]);
  const decided = all.filter((a) => a.status !== 'requested');
  const names = new Map<string, string>();
  for (const id of new Set(open.map((a) => a.requestedByKeyId))) names.set(id, await keyName(deps, signed.organizationId, id));
  return sendPage(
    ctx.reply,
    status,
    <ApprovalsPage viewer={signed.viewer} open={open} decided={decided} keyNames={names} {...(notice === undefined ? {} : { notice })} />,
  );
}

export const APPROVAL_ROUTES: readonly DashboardRoute[] = [
  {
    method: 'GET',
    path: '/approvals',
    summary: 'The approvals inbox (open requests oldest first) and the decided ones, with who decided',
    handle: (ctx) => inbox(ctx, 200),
  },
  {
    method: 'POST',
    path: '/approvals/:approvalId/decide',
    summary: 'Approve or reject (`verdict`), with an optional `note`; recorded as `operator:EMAIL`',
    handle: async (ctx) => {
      const approvalId = ctx.params.approvalId ?? '';
      const verdict = ctx.form.get('verdict');
      const note = (ctx.form.get('note') ?? '').trim();
      if (!APPROVAL_ID.test(approvalId)) return inbox(ctx, 404, { kind: 'error', text: `No approval ${approvalId}` });
      if (verdict !== 'approve' && verdict !== 'reject') return inbox(ctx, 400, { kind: 'error', text: 'Choose approve or reject' });
      if (note.length > NOTE_MAX_LENGTH) return inbox(ctx, 400, { kind: 'error', text: `Note must be at most ${NOTE_MAX_LENGTH} characters` });
      let decided;
      try {
        decided = await ctx.deps.service.decideApproval(
          ctx.signed.organizationId,
          approvalId,
          verdict,
          { kind: 'operator', name: ctx.signed.session.operator.email },
          note === '' ? undefined : note,
        );
      } catch (error) {
        if (error instanceof RefundKitError && error.code !== 'internal_error') {
          return inbox(ctx, ctx.deps.httpStatus(error.code), { kind: 'error', text: error.message });
        }
        throw error;
      }
      return afterChange(ctx, decided.approval.refundId, decided.approval.status === 'approved' ? 'approved' : 'rejected');
    },
  },
];
