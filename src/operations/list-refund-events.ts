import { z } from 'zod';
import { ACTORS, REFUND_STATUSES } from '../domain/refund.js';
import { refundIdSchema } from '../domain/schemas.js';
import { approvalSchema, approvalView } from './approval-schema.js';
import { defineOperation } from './operation.js';
import { pathRefundId } from './rest-input.js';

const eventSchema = z.object({
  from: z.enum(REFUND_STATUSES).nullable().describe('Status before; null for the creation event'),
  to: z.enum(REFUND_STATUSES).describe('Status after (the same as from for an event that changed no status)'),
  actor: z.enum(ACTORS).describe('Who acted: api, dashboard (an operator), mcp (an agent) or system'),
  detail: z.string().nullable().describe('What happened: which key, rule, approval, decider or processor answer'),
  at: z.string().describe('ISO 8601 time'),
});

export const listRefundEvents = defineOperation({
  name: 'list_refund_events',
  title: 'List refund events',
  description: [
    "Read a refund's audit trail, oldest first: every status change, agent-policy decision and approval step, each with who acted",
    '(api, dashboard for an operator, mcp for an agent, system), what happened (detail: the key, the rule, the approval and its decider, the processor answer) and when.',
    'Events are append-only and never change. An event whose from and to are the same status changed nothing (for example a refused cancel, or an approval request).',
    'Returns { refundId, events, approval }: approval is the request that held the refund for a person (status requested, approved, rejected or expired, decidedBy, note), or null.',
    'An unknown id, or a refund of another organization, is not_found. Use get_refund for the refund itself.',
  ].join(' '),
  input: z.strictObject({ refundId: refundIdSchema('refundId') }),
  output: z.object({
    refundId: z.string(),
    events: z.array(eventSchema),
    approval: approvalSchema.nullable().describe("The refund's approval request, or null when it never needed one"),
  }),
  scope: 'read',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  rest: {
    method: 'GET',
    summary: 'A refund\'s audit events, oldest first, and its approval request: `{"data": {"refundId", "events": […], "approval"}}`',
    path: '/v1/refunds/:refundId/events',
    input: (request) => ({ refundId: pathRefundId(request) }),
    data: (output) => output,
  },
  run: async ({ refundId }, { service, caller }) => {
    const audit = await service.events(caller, refundId);
    return {
      refundId: audit.refundId,
      events: audit.events.map((event) => ({ from: event.from, to: event.to, actor: event.initiatedBy, detail: event.detail, at: event.createdAt })),
      approval: audit.approval === null ? null : approvalView(audit.approval),
    };
  },
});
