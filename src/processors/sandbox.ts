/**
 * The sandbox processor: an offline stand-in for a payment provider, for demos and dry runs, in
 * the spirit of a provider's test mode. It never moves money and always answers the same way for
 * the same refund, by these documented rules (see README, "The sandbox processor"):
 *
 * - Cancelling a processing refund is accepted, unless its amount ends in 99 minor units
 *   (e.g. 4999 = $49.99): the sandbox then answers that the refund has already completed, just
 *   as Stripe refuses to cancel a refund that has gone through.
 */
import type { CancelOutcome, RefundProcessor } from '../domain/ports.js';
import type { Refund } from '../domain/refund.js';

export const SANDBOX_PROCESSOR = 'sandbox';

export function sandboxRefusesCancel(amount: number): boolean {
  return amount % 100 === 99;
}

export class SandboxProcessor implements RefundProcessor {
  readonly name = SANDBOX_PROCESSOR;

  cancel(refund: Refund): Promise<CancelOutcome> {
    if (sandboxRefusesCancel(refund.amount)) {
      return Promise.resolve({
        accepted: false,
        status: 'completed',
        reason: 'the sandbox had already completed this refund (amounts ending in 99 always complete)',
      });
    }
    return Promise.resolve({ accepted: true });
  }
}
