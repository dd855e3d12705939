/**
 * `refundkit-mcp approvals list|approve|reject`: agents' refunds that wait for a person, decided
 * by a named operator on the host. Approving makes the refund due: the next background pass (a
 * server's loop, or `refundkit-mcp dispatch`) submits it. Rejecting cancels it.
 */
import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { RefundKitError } from '../domain/errors.js';
import { APPROVAL_STATUSES, type ApprovalStatus, type ApprovalVerdict } from '../domain/guardrails/approval.js';
import { keyLabel } from '../domain/key-name.js';
import { CommandError, flags, flagsAndArgs, required, UsageError, type Io } from './common.js';

export const APPROVALS_HELP = `Usage:
  refundkit-mcp approvals list --org ORG_ID [--status requested|approved|rejected|expired] [--limit N]
      approval requests, newest first, one tab-separated line each: id, status, refund, amount,
      currency, reason, requesting key, created, expires, decided by, why it waits.
  refundkit-mcp approvals approve APPROVAL_ID --org ORG_ID [--as OPERATOR_NAME] [--note TEXT]
      approve: the refund is submitted by the next background pass (a server, or dispatch).
  refundkit-mcp approvals reject APPROVAL_ID --org ORG_ID [--as OPERATOR_NAME] [--note TEXT]
      reject: the refund is cancelled; the processor never sees it.
  The operator name (default: cli) and the note go into the refund's audit trail.`;

export async function runApprovals(args: string[], config: () => Readonly<Config>, io: Io): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const values = flags(rest, { org: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } });
    if (values.help === true) return io.out(APPROVALS_HELP);
    const status = values.status;
    if (status !== undefined && !isStatus(status)) throw new UsageError(`--status must be one of ${APPROVAL_STATUSES.join(', ')}, not '${status}'`);
    const limitText = values.limit ?? '50';
    if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1) throw new UsageError(`--limit must be a number from 1 to 9999, not '${limitText}'`);
    return list(config(), required(values.org, '--org'), status, Number(limitText), io);
  }
  if (sub === 'approve' || sub === 'reject') {
    const { values, positionals } = flagsAndArgs(rest, { org: { type: 'string' }, as: { type: 'string' }, note: { type: 'string' } });
    if (values.help === true) return io.out(APPROVALS_HELP);
    const [approvalId, ...extra] = positionals;
    if (approvalId === undefined || extra.length > 0) throw new UsageError(`approvals ${sub} takes one approval id (apr_…)`);
    if (!/^apr_[a-z0-9]{12}$/.test(approvalId)) throw new UsageError(`'${approvalId}' is not an approval id (apr_ and 12 lowercase letters or digits)`);
    const operator = typeof values.as === 'string' ? values.as : 'cli';
    if (!/^[\w.@-]{1,100}$/.test(operator)) throw new UsageError('--as must be 1 to 100 letters, digits, or . _ @ -');
    const note = typeof values.note === 'string' ? values.note : undefined;
    const verdict: ApprovalVerdict = sub === 'approve' ? 'approve' : 'reject';
    return decide(config(), required(values.org, '--org'), approvalId, verdict, operator, note, io);
  }
  throw new UsageError(`unknown approvals command '${sub ?? ''}'\n\n${APPROVALS_HELP}`);
}

function isStatus(value: string): value is ApprovalStatus {
  return (APPROVAL_STATUSES as readonly string[]).includes(value);
}

async function list(config: Readonly<Config>, organizationId: string, status: ApprovalStatus | undefined, limit: number, io: Io): Promise<void> {
  const app = await createApp(config);
  try {
    if ((await app.organizations.findById(organizationId)) === null) throw new CommandError(`no organization ${organizationId}`);
    const approvals = await app.service.listApprovals(organizationId, status, limit);
    if (approvals.length === 0) io.err('no approval requests');
    const labels = new Map<string, string>();
    for (const id of new Set(approvals.map((a) => a.requestedByKeyId))) {
      const key = await app.apiKeys.findById(id);
      labels.set(id, key === null || key.organizationId !== organizationId ? id : keyLabel(key));
    }
    for (const a of approvals) {
      const requestedBy = labels.get(a.requestedByKeyId) ?? a.requestedByKeyId;
      io.out([a.id, a.status, a.refundId, a.amount, a.currency, a.reason, requestedBy, a.createdAt, a.expiresAt, a.decidedBy ?? '-', a.ruleMessage].join('\t'));
    }
  } finally {
    await app.close();
  }
}

async function decide(
  config: Readonly<Config>,
  organizationId: string,
  approvalId: string,
  verdict: ApprovalVerdict,
  operator: string,
  note: string | undefined,
  io: Io,
): Promise<void> {
  const app = await createApp(config);
  try {
    const { approval, refund } = await app.service.decideApproval(organizationId, approvalId, verdict, { kind: 'operator', name: operator }, note);
    io.out(
      approval.status === 'approved'
        ? `approved ${approval.id}: refund ${refund.id} (${refund.amount} ${refund.currency}) is due for submission`
        : `rejected ${approval.id}: refund ${refund.id} is ${refund.status}`,
    );
  } catch (error) {
    if (error instanceof RefundKitError) throw new CommandError(`${error.code}: ${error.message}`);
    throw error;
  } finally {
    await app.close();
  }
}
