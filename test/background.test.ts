/**
 * The background loop's stop, which every serving process awaits before closing the database: it
 * must also wait for submissions that outlived their caller's deadline, so that a shutdown records
 * their outcome instead of leaving them to lapse into doubt.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBackgroundWork } from '../src/background.js';
import type { CancelOutcome, ProcessorStatus, RefundProcessor, SubmitOutcome } from '../src/domain/ports.js';
import { RefundService } from '../src/domain/refund-service.js';
import { silentLogger } from '../src/logger.js';
import { StaticProcessorRegistry } from '../src/processors/registry.js';
import { cleanupAll, createOrg, createTestApp, FakeClock, settingsWith } from './support/fixtures.js';

afterEach(() => cleanupAll());

describe('startBackgroundWork(...).stop()', () => {
  it.each([0, 60_000])('(interval %i ms) waits for a submission that outlived its call, which then records its outcome', async (intervalMs) => {
    const app = createTestApp();
    const caller = { organizationId: createOrg(app).id, actor: 'mcp' as const };
    let answer: (outcome: SubmitOutcome) => void = () => undefined;
    const processor: RefundProcessor = {
      name: 'stripe',
      submit: () => new Promise<SubmitOutcome>((resolve) => (answer = resolve)),
      retrieve: (): Promise<ProcessorStatus> => Promise.resolve({ status: 'processing' }),
      cancel: (): Promise<CancelOutcome> => Promise.resolve({ accepted: true }),
      findSubmitted: () => Promise.resolve(null),
    };
    const service = new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry([processor]),
      clock: new FakeClock(),
      settings: settingsWith({ callDeadlineMs: 50 }),
    });
    const created = await service.create(caller, { transactionId: 'ch_3PqTestCharge', amount: 2500, currency: 'usd', reason: 'other' });
    expect(created.status).toBe('pending');
    const work = startBackgroundWork(service, silentLogger, intervalMs);
    let stopped = false;
    const stopping = work.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    answer({ kind: 'submitted', externalRefundId: 're_atShutdown', status: 'processing' });
    await stopping;
    expect(await service.get(caller, created.id)).toMatchObject({ status: 'processing', externalRefundId: 're_atShutdown' });
  });
});
