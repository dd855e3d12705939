/**
 * The call deadline: no caller waits on a processor longer than settings.callDeadlineMs, whatever
 * the processor does. A processor call is told how long it has (and ends by itself a little
 * before the caller's own timer); the timer only catches a call that ignores its timeout.
 */

/**
 * How much sooner than the caller's own timer a processor call is told to end: the processor
 * then ends by itself and its outcome is recorded inside the call.
 */
export function graceFor(ms: number): number {
  return Math.min(500, ms / 10);
}

/** Of `ms` a caller waits, what the processor call gets (see graceFor). */
export function processorShare(ms: number): number {
  return Math.max(1, ms - graceFor(ms));
}

/**
 * `promise`'s value, or done: false once `ms` have passed first (real time). A rejection before
 * then is thrown; one after is handled here and goes nowhere (the caller chose not to wait).
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
