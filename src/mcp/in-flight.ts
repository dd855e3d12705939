/**
 * Tool calls still running. A stdio client may write its requests and close stdin at once; the
 * server then waits for these before it exits, so no answer (or processor outcome) is lost.
 */
export class InFlightCalls {
  private readonly calls = new Set<Promise<unknown>>();

  track<T>(call: Promise<T>): Promise<T> {
    this.calls.add(call);
    void call.finally(() => this.calls.delete(call)).catch(() => undefined);
    return call;
  }

  get size(): number {
    return this.calls.size;
  }

  /** Resolves when every tracked call has settled, or after `timeoutMs`, whichever is first. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Requests read just before stdin ended reach their handlers a tick later: let them start.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.calls.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
      await Promise.race([Promise.allSettled([...this.calls]), timeout]);
      clearTimeout(timer);
    }
    // The SDK writes a response just after its handler settles; give that write its turn.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
