/**
 * The sandbox processor: an offline stand-in for a payment provider, for demos and dry runs, in
 * the spirit of a provider's test mode. It never moves money, keeps no state, and always answers
 * the same way for the same refund, by the last two digits of the amount in minor units
 * (documented in the README, "The sandbox processor"):
 *
 * | amount ends in | submission            | status read back | cancel while processing |
 * |----------------|-----------------------|------------------|-------------------------|
 * | 13             | rejected → failed     | –                | –                       |
 * | 99             | accepted → processing | completed        | refused (completed)     |
 * | anything else  | accepted → processing | processing       | accepted → cancelled    |
 *
 * So 4999 walks pending → processing → completed, 2500 can be cancelled while processing, and
 * 1313 fails at submission.
 *
 * Every sandbox charge took SANDBOX_CHARGED_AMOUNT (1000.00), except a transaction id containing
 * `unknown`, which the sandbox cannot tell (an agent's refund on it then waits for approval).
 */
import type { CancelOutcome, ProcessorStatus, RefundProcessor, SubmitOutcome } from '../domain/ports.js';
import type { Refund, RefundStatus } from '../domain/refund.js';

export const SANDBOX_PROCESSOR = 'sandbox';

/** What every sandbox charge took, in minor units (the agent policy's per-transaction rule). */
export const SANDBOX_CHARGED_AMOUNT = 100_000;

type SandboxRule = 'rejects' | 'settles' | 'waits';

export function sandboxRule(amount: number): SandboxRule {
  const cents = amount % 100;
  if (cents === 13) return 'rejects';
  if (cents === 99) return 'settles';
  return 'waits';
}

/** Whether the sandbox refuses to cancel a processing refund of this amount (it has completed). */
export function sandboxRefusesCancel(amount: number): boolean {
  return sandboxRule(amount) === 'settles';
}

/** The sandbox's refund id is derived from ours, so every process and every retry agrees on it. */
export function sandboxRefundId(refund: Refund): string {
  return `sbx_re_${refund.id.slice('ref_'.length)}`;
}

export class SandboxProcessor implements RefundProcessor {
  readonly name = SANDBOX_PROCESSOR;

  submit(refund: Refund): Promise<SubmitOutcome> {
    if (sandboxRule(refund.amount) === 'rejects') {
      return Promise.resolve({ kind: 'rejected', reason: 'sandbox: amounts ending in 13 are always declined' });
    }
    return Promise.resolve({ kind: 'submitted', externalRefundId: sandboxRefundId(refund), status: 'processing' });
  }

  retrieve(refund: Refund): Promise<ProcessorStatus> {
    const status: RefundStatus = sandboxRule(refund.amount) === 'settles' ? 'completed' : refund.status;
    return Promise.resolve({ status, detail: 'sandbox status read' });
  }

  cancel(refund: Refund): Promise<CancelOutcome> {
    if (sandboxRule(refund.amount) === 'settles') {
      return Promise.resolve({
        accepted: false,
        status: 'completed',
        reason: 'the sandbox had already completed this refund (amounts ending in 99 always complete)',
      });
    }
    return Promise.resolve({ accepted: true });
  }

  /** The sandbox keeps nothing between calls: an interrupted submission left nothing behind. */
  findSubmitted(): Promise<{ externalRefundId: string; status: RefundStatus } | null> {
    return Promise.resolve(null);
  }

  chargedAmount(transactionId: string): Promise<number | undefined> {
    return Promise.resolve(transactionId.includes('unknown') ? undefined : SANDBOX_CHARGED_AMOUNT);
  }
}
