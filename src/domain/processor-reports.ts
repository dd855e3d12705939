/**
 * What a processor tells us, unasked, about one of its refunds (a webhook event).
 */
import { asRefundKitError, errors } from './errors.js';
import { nowIso, type RefundContext } from './context.js';
import { applyProcessorStatus, withDetail } from './processor-status.js';
import type { Refund, RefundStatus } from './refund.js';

export interface ProcessorReport {
  processor: string;
  /** The processor's id of the refund (Stripe's re_…). */
  externalRefundId: string;
  /** The status the report carries, already mapped to ours. */
  status: RefundStatus;
  /** Kept in the audit event, e.g. `stripe webhook refund.updated evt_123`. */
  source: string;
  /** Our id, when the processor's copy carries it (Stripe: metadata refundkit_refund_id). */
  refundId?: string;
}

export interface ProcessorReportOutcome {
  /** The refund as it stands after the report. */
  refund: Refund;
  changed: boolean;
  /** Where the status applied came from: a fresh read from the processor, or the report itself. */
  statusFrom: 'processor' | 'report';
}

/**
 * Records what a processor reports about a refund it holds (a webhook). Reports can be late,
 * repeated or out of order, so the processor is asked for the refund's status now and that is
 * what is recorded; only when it cannot be asked (an outage, or no credentials here) is the
 * report's own status used, and then the status machine still refuses any move backwards.
 * Resolves to null when no refund of ours has that processor id.
 */
export async function applyProcessorReport(ctx: RefundContext, report: ProcessorReport): Promise<ProcessorReportOutcome | null> {
  const { store } = ctx;
  const refund = await store.findByExternalId(report.processor, report.externalRefundId);
  if (refund === null) {
    // A refund of ours the processor holds but we have not linked yet: the answer to its
    // submission is being recorded right now (or was lost, and the next attempt finds it).
    // Taken as news about nothing, the report would be lost; refund_busy has it sent again.
    if (report.refundId !== undefined && (await store.submissionState(report.refundId, nowIso(ctx))) !== null) {
      throw errors.refundBusy();
    }
    return null;
  }
  let status = report.status;
  let statusFrom: ProcessorReportOutcome['statusFrom'] = 'report';
  let detail = `${report.source}: status ${report.status} from the event`;
  const found = ctx.processors.lookup(refund.processor);
  if (found.ok) {
    try {
      const remote = await found.processor.retrieve(refund);
      status = remote.status;
      statusFrom = 'processor';
      detail = withDetail(`${report.source}: status read from ${refund.processor}`, remote.detail);
    } catch (error) {
      ctx.report('status read after a processor report failed; using the report', {
        refundId: refund.id,
        error: asRefundKitError(error).message,
      });
      detail = `${report.source}: status ${report.status} from the event (reading it from ${refund.processor} failed)`;
    }
  }
  const changed = await applyProcessorStatus(ctx, refund, status, detail);
  const now = (await store.findById(refund.organizationId, refund.id)) ?? refund;
  return { refund: now, changed, statusFrom };
}
