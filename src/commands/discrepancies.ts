import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { CommandError, type Io } from './common.js';

export const DISCREPANCIES_HELP = `Usage: refundkit-mcp discrepancies [--org ORG_ID]

Lists the refunds a processor holds as moving money (processing or completed there) while
RefundKit holds them as cancelled or failed, and second processor refunds made for one refund.
They are found by Stripe webhooks and by the background watch that looks again at the processor
for a while after a refund is cancelled following an unanswered submission. The refund's status is
never changed by it: each one is also an audit event on the refund and an error in the server's
log, and needs a person to reconcile it (refund the customer's money back, or correct the books).

One line per discrepancy, oldest first, tab-separated: detected at, organization, refund, our
status, processor, the processor's refund id, the processor's status, how it was found. Nothing on
stdout (and "no discrepancies" on stderr) when there are none.

  --org ORG_ID   only this organization's`;

export async function runDiscrepancies(config: Readonly<Config>, organizationId: string | undefined, io: Io): Promise<void> {
  const app = await createApp(config);
  try {
    if (organizationId !== undefined && (await app.organizations.findById(organizationId)) === null) {
      throw new CommandError(`no organization ${organizationId}; list them with: refundkit-mcp orgs list`);
    }
    const found = await app.refunds.listDiscrepancies(organizationId);
    if (found.length === 0) io.err('no discrepancies');
    for (const d of found) {
      io.out(
        [d.detectedAt, d.organizationId, d.refundId, d.ourStatus, d.processor, d.externalRefundId, d.processorStatus, d.source].join('\t'),
      );
    }
  } finally {
    await app.close();
  }
}
