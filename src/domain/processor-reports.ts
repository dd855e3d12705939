/**
 * What a processor tells us, unasked, about one of its refunds (a webhook event).
 */
import { asRefundKitError, errors } from './errors.js';
import type { RefundContext } from './context.js';
import { isDiscrepancy, noteDiscrepancy, type RemoteRefund } from './discrepancies.js';
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
  /** The processor holds money moving for a refund we hold as cancelled or failed (recorded). */
  discrepancy: boolean;
}

/**
 * Records what a processor reports about a refund it holds (a webhook). Reports can be late,
 * repeated or out of order, so the processor is asked for the refund's status now and that is
 * what is recorded; only when it cannot be asked (an outage, or no credentials here) is the
 * report's own status used, and then the status machine still refuses any move backwards.
 * Resolves to null when no refund of ours has that processor id (nor, by the report's own copy of
 * our id, any refund of ours). A processor holding money moving for a refund we hold as cancelled
 * or failed is recorded as a discrepancy (discrepancies.ts), the refund left as it is.
 */
export async function applyProcessorReport(ctx: RefundContext, report: ProcessorReport): Promise<ProcessorReportOutcome | null> {
  const { store } = ctx;
  const refund = await store.findByExternalId(report.processor, report.externalRefundId);
  if (refund === null) {
    const ours = report.refundId === undefined ? null : await store.findForProcessor(report.processor, report.refundId);
    if (ours === null) return null;
    // A refund of ours the processor holds but we have not linked yet: the answer to its
    // submission is being recorded right now (or was lost, and the next attempt finds it).
    // Taken as news about nothing, the report would be lost; refund_busy has it sent again.
    if (ours.status === 'pending') throw errors.refundBusy();
    return applyUnlinkedReport(ctx, ours, report);
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
  // Only a fresh read proves money moving now: an event's own status may be stale news, and the
  // status machine is right to refuse it.
  const remote = { externalRefundId: report.externalRefundId, status };
  const discrepancy = statusFrom === 'processor' && isDiscrepancy(now, remote);
  if (discrepancy) await noteDiscrepancy(ctx, now, remote, report.source);
  return { refund: now, changed, statusFrom, discrepancy };
}

/**
 * A report naming one of our refunds (by our id) under a processor id we do not hold: the
 * refund was cancelled or failed here (or holds another processor id) while the processor made
 * it. Acknowledged, never refund_busy: waiting would not change it, and a processor retrying
 * for days would hide it. The processor's own copy is read when it can be; a report signed by
 * the processor proves the refund exists there all the same.
 */
async function applyUnlinkedReport(ctx: RefundContext, ours: Refund, report: ProcessorReport): Promise<ProcessorReportOutcome> {
  let remote: RemoteRefund = { externalRefundId: report.externalRefundId, status: report.status };
  let statusFrom: ProcessorReportOutcome['statusFrom'] = 'report';
  const found = ctx.processors.lookup(ours.processor);
  if (found.ok) {
    try {
      const read = await found.processor.retrieve({ ...ours, externalRefundId: report.externalRefundId });
      remote = { externalRefundId: report.externalRefundId, status: read.status };
      statusFrom = 'processor';
    } catch (error) {
      ctx.report('status read after a processor report failed; using the report', { refundId: ours.id, error: asRefundKitError(error).message });
    }
  }
  const discrepancy = isDiscrepancy(ours, remote);
  if (discrepancy) await noteDiscrepancy(ctx, ours, remote, report.source);
  return { refund: (await ctx.store.findById(ours.organizationId, ours.id)) ?? ours, changed: false, statusFrom, discrepancy };
}
