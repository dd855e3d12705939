/**
 * settings.ts: every timing rule of the domain, computed once from the configuration.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../../src/config.js';
import { refundSettings } from '../../src/domain/settings.js';
import { STRIPE_TIMING } from '../support/fixtures.js';

const from = (env: Env = {}) => refundSettings(loadConfig({ HOME: '/nonexistent-refundkit-home', ...env }), STRIPE_TIMING);

describe('refundSettings', () => {
  it('from the default configuration', () => {
    expect(from()).toEqual({
      holdMs: 0,
      leaseMs: 130_000,
      retryBaseMs: 5_000,
      maxRetryMs: 15 * 60_000,
      syncIntervalMs: 60_000,
      concurrency: 4,
      completedRecheckMs: 6 * 3_600_000,
      completedWatchMs: 7 * 24 * 3_600_000,
      refreshAfterMs: 10_000,
      refreshTimeoutMs: 2_000,
      cancelWaitMs: 5_000,
      inDoubtMs: 160_000,
      callDeadlineMs: 15_000,
      lateLandingRecheckMs: 10 * 60_000,
      lateLandingWatchMs: 24 * 3_600_000,
    });
  });

  it('takes what the operator configures, in seconds, as milliseconds', () => {
    expect(
      from({
        REFUNDKIT_HOLD_SECONDS: '30',
        REFUNDKIT_SYNC_INTERVAL_SECONDS: '120',
        REFUNDKIT_DISPATCH_CONCURRENCY: '8',
        REFUNDKIT_REFRESH_AFTER_SECONDS: '0',
        REFUNDKIT_RETRY_BASE_SECONDS: '0.5',
        REFUNDKIT_CALL_DEADLINE_SECONDS: '7.5',
      }),
    ).toMatchObject({ holdMs: 30_000, syncIntervalMs: 120_000, concurrency: 8, refreshAfterMs: 0, retryBaseMs: 500, callDeadlineMs: 7_500 });
  });

  it('a read-only process never reads a status on request: it could not record what it found', () => {
    expect(from({ REFUNDKIT_READ_ONLY: '1', REFUNDKIT_REFRESH_AFTER_SECONDS: '30' }).refreshAfterMs).toBe(0);
  });

  it("derives the claim lease, the doubt window and the read on request from the Stripe client's limits", () => {
    // A claim outlasts every try of the client, twice over, plus room; never under a minute.
    expect(from({ STRIPE_TIMEOUT_MS: '100000', STRIPE_MAX_NETWORK_RETRIES: '3' }).leaseMs).toBe(100_000 * 4 * 2 + 10_000);
    expect(from({ STRIPE_TIMEOUT_MS: '500', STRIPE_MAX_NETWORK_RETRIES: '0' }).leaseMs).toBe(60_000);
    // The doubt is twice one try, never under the processor's own floor (a short client timeout
    // does not make Stripe quicker); the read a caller waits on is one short try.
    expect(from({ STRIPE_TIMEOUT_MS: '500' })).toMatchObject({ inDoubtMs: 160_000, refreshTimeoutMs: 500 });
    expect(from({ STRIPE_TIMEOUT_MS: '30000' })).toMatchObject({ inDoubtMs: 160_000, refreshTimeoutMs: 2_000 });
    expect(from({ STRIPE_TIMEOUT_MS: '100000' })).toMatchObject({ inDoubtMs: 200_000, refreshTimeoutMs: 2_000 });
    expect(refundSettings(loadConfig({ HOME: '/nonexistent-refundkit-home' }), { lateExecutionFloorMs: 0 }).inDoubtMs).toBe(40_000);
  });
});
