/**
 * Waiting for an event instead of sleeping, with a deadline: a wait for something that never
 * comes fails with what it waited for, not with the runner's bare test timeout.
 */

/** `promise`, or a rejection naming `what` once `ms` have passed without it settling. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
