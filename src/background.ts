/**
 * The background loop every serving process runs: submit refunds whose hold has passed, and read
 * back statuses that are due. Claims in the database keep several processes from doing the same
 * refund twice, so running this in each of them is safe. Timers are unref'd: the loop never keeps
 * a process alive on its own.
 */
import type { RefundService } from './domain/refund-service.js';
import type { Logger } from './logger.js';

export interface BackgroundWork {
  /**
   * Resolves once a pass in progress has finished, and submissions that outlived their caller's
   * deadline have recorded their outcome; no pass starts after.
   */
  stop(): Promise<void>;
}

export function startBackgroundWork(service: RefundService, logger: Logger, intervalMs: number): BackgroundWork {
  // Submissions that outlived a caller's deadline are background work too: a stop waits for them
  // to record their outcome (bounded by their lease) before the store is closed.
  if (intervalMs <= 0) return { stop: () => service.settleDetached() };
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const pass = async (): Promise<void> => {
    try {
      const result = await service.runPass();
      if (result.submitted + result.changed > 0) logger.info('background pass', { ...result });
    } catch (error) {
      // A store fault (disk full, lock timeout) must not kill the server; the next pass retries.
      logger.error('background pass failed', { error });
    }
  };
  const schedule = (delay: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass().finally(() => schedule(intervalMs));
    }, delay);
    timer.unref();
  };
  schedule(0);

  return {
    stop: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
      await service.settleDetached();
    },
  };
}
