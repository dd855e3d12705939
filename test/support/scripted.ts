/**
 * Doubles for driving the RefundService step by step: a processor whose answers the test scripts,
 * a promise the test settles by hand, and a store that tells the test what the service asked of
 * it. With these a test waits for the event it needs ("the create reached the processor", "the
 * cancel has looked and is waiting") instead of sleeping and hoping it happened.
 */
import type { CancelOutcome, ProcessorStatus, RefundProcessor, RefundStore, SubmitOutcome } from '../../src/domain/ports.js';
import type { Refund, RefundStatus } from '../../src/domain/refund.js';

/** A processor whose answers the test scripts, recording every call. */
export class ScriptedProcessor implements RefundProcessor {
  readonly name: string;
  submits: Array<{ id: string; attempt: number }> = [];
  cancels: string[] = [];
  retrieves: Array<{ id: string; options: { timeoutMs?: number } | undefined }> = [];
  finds: string[] = [];
  onSubmit: (refund: Refund, attempt: number) => Promise<SubmitOutcome> = (refund) =>
    Promise.resolve({ kind: 'submitted', externalRefundId: `re_${refund.id.slice(4)}`, status: 'processing' });
  onRetrieve: (refund: Refund) => Promise<ProcessorStatus> = (refund) => Promise.resolve({ status: refund.status });
  onCancel: (refund: Refund) => Promise<CancelOutcome> = () => Promise.resolve({ accepted: true });
  onFind: (refund: Refund) => Promise<{ externalRefundId: string; status: RefundStatus } | null> = () =>
    Promise.resolve(null);

  constructor(name = 'stripe') {
    this.name = name;
  }

  submit(refund: Refund, attempt: number): Promise<SubmitOutcome> {
    this.submits.push({ id: refund.id, attempt });
    return this.onSubmit(refund, attempt);
  }
  retrieve(refund: Refund, options?: { timeoutMs?: number }): Promise<ProcessorStatus> {
    this.retrieves.push({ id: refund.id, options });
    return this.onRetrieve(refund);
  }
  cancel(refund: Refund): Promise<CancelOutcome> {
    this.cancels.push(refund.id);
    return this.onCancel(refund);
  }
  findSubmitted(refund: Refund): Promise<{ externalRefundId: string; status: RefundStatus } | null> {
    this.finds.push(refund.id);
    return this.onFind(refund);
  }
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** A promise the test settles when it chooses. */
export function deferred<T = void>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

type StoreMethod = {
  [K in keyof RefundStore]: RefundStore[K] extends (...args: never[]) => unknown ? K : never;
}[keyof RefundStore];

export interface StoreCall {
  method: StoreMethod;
  args: unknown[];
  result: unknown;
}

/**
 * A RefundStore that forwards every call to `store` and records it (with what it resolved to),
 * then calls the listeners.
 * `when(predicate)` resolves at the first call (past or future) that matches; `after` runs a
 * hook after every call, e.g. to move a fake clock each time a waiting loop looks again.
 */
export class ObservedStore {
  readonly calls: StoreCall[] = [];
  readonly store: RefundStore;
  private readonly waiters: Array<{ match: (call: StoreCall) => boolean; resolve: (call: StoreCall) => void }> = [];
  private readonly hooks: Array<(call: StoreCall) => void> = [];

  constructor(inner: RefundStore) {
    this.store = new Proxy(inner, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result: unknown = Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
          const method = property as StoreMethod;
          // The store answers asynchronously: the call is recorded with what it resolved to, before
          // the caller goes on (so that a hook runs between the call and what follows it).
          if (result instanceof Promise) {
            return result.then((resolved: unknown) => {
              this.record({ method, args, result: resolved });
              return resolved;
            });
          }
          this.record({ method, args, result });
          return result;
        };
      },
    });
  }

  /** The calls of one method so far. */
  of(method: StoreMethod): StoreCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Resolves with the first call matching `match`, including one already made. */
  when(match: (call: StoreCall) => boolean): Promise<StoreCall> {
    const seen = this.calls.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Resolves once `method` has been called `count` times in all. */
  whenCalled(method: StoreMethod, count = 1): Promise<StoreCall> {
    let n = 0;
    return this.when((call) => call.method === method && (n += 1) >= count);
  }

  /** Runs `hook` after every later call. */
  after(hook: (call: StoreCall) => void): void {
    this.hooks.push(hook);
  }

  private record(call: StoreCall): void {
    this.calls.push(call);
    for (const hook of this.hooks) hook(call);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(call)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
  }
}

/**
 * Calls (to a processor double) held until the test lets them go, counting how many are in flight
 * at once: `held(n)` waits until n calls are waiting, `releaseAll()` lets them answer.
 */
export class HeldCalls<T> {
  inFlight = 0;
  peak = 0;
  private readonly gates: Array<Deferred<void>> = [];
  private readonly watchers: Array<{ count: number; resolve: () => void }> = [];

  constructor(private readonly answer: () => T) {}

  readonly run = async (): Promise<T> => {
    this.inFlight += 1;
    this.peak = Math.max(this.peak, this.inFlight);
    const gate = deferred();
    this.gates.push(gate);
    this.notify();
    await gate.promise;
    this.inFlight -= 1;
    return this.answer();
  };

  /** Resolves once `count` calls are being held. */
  held(count: number): Promise<void> {
    if (this.gates.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ count, resolve }));
  }

  /** Lets every held call answer; returns how many there were. */
  releaseAll(): number {
    const gates = this.gates.splice(0);
    for (const gate of gates) gate.resolve();
    return gates.length;
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) {
      if (this.gates.length >= watcher.count) {
        this.watchers.splice(this.watchers.indexOf(watcher), 1);
        watcher.resolve();
      }
    }
  }
}
