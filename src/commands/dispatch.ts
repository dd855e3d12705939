import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { CommandError, type Io } from './common.js';

export const DISPATCH_HELP = `Usage: refundkit-mcp dispatch

Runs one pass of background work and exits (for cron, or a server started with
REFUNDKIT_DISPATCH_INTERVAL_SECONDS=0): submits pending refunds whose hold window has passed,
retries submissions that hit an outage, and reads back the status of processing refunds that are
due. Safe to run while servers are running: a refund is never submitted twice. Only refunds of the
processors configured here are touched (stripe needs STRIPE_SECRET_KEY); the others are left as
they are. Refused under REFUNDKIT_READ_ONLY=1. Prints a summary.`;

export async function runDispatch(config: Readonly<Config>, io: Io): Promise<void> {
  if (config.readOnly) {
    throw new CommandError('dispatch submits refunds and records their statuses, and REFUNDKIT_READ_ONLY=1 is set: nothing done; unset it to dispatch');
  }
  const app = await createApp(config, { logger: createLogger(config.logLevel) });
  try {
    const result = await app.service.runPass(500);
    io.out(`submitted ${result.submitted}, status reads ${result.synced}, status changes ${result.changed}`);
  } finally {
    await app.close();
  }
}
