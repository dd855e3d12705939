/**
 * What the load tests (races, rest-races, crashes) have in common: seeded choices, the refund
 * traffic their callers send (creates with shared and own idempotency keys, cancels aimed at the
 * newest refunds, reads), and leaving the demo's seeded refunds out of what is checked.
 */
import type { AddChargeOptions, Fault, FaultMatch, StripeImitation } from './stripe-imitation.js';
import { sleep, stripeAgreementViolations, type Snapshot } from './reliability.js';

export interface Dice {
  /** A number in [0, 1). */
  readonly random: () => number;
  readonly pick: <T>(items: readonly T[]) => T;
}

/** Seeded choices (mulberry32), so that a run's choices can be replayed, timing aside. */
export function seededDice(seed: number): Dice {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { random, pick: <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T };
}

/** A charge to refund, and how often the traffic picks it relative to the others. */
export interface WeightedCharge {
  id: string;
  weight: number;
}

/**
 * Charges at the imitation for the traffic to refund: `copies` of each kind, each kind picked as
 * often as its weight says. Several copies, so that no charge carries thousands of refunds (a real
 * one cannot): the lookup after an interrupted submission lists a charge's refunds.
 */
export function addCharges(
  imitation: Pick<StripeImitation, 'addCharge'>,
  copies: number,
  kinds: ReadonlyArray<{ charge: Omit<AddChargeOptions, 'amount'>; weight: number; asPaymentIntent?: boolean }>,
): WeightedCharge[] {
  const charges: WeightedCharge[] = [];
  for (let i = 0; i < copies; i += 1) {
    for (const kind of kinds) {
      const added = imitation.addCharge({ amount: 1_000_000_000, ...kind.charge });
      charges.push({ id: kind.asPaymentIntent === true ? added.paymentIntentId : added.chargeId, weight: kind.weight });
    }
  }
  return charges;
}

const REASONS = ['duplicate_charge', 'requested_by_customer', 'product_defective', 'other'] as const;

/**
 * The refunds racing callers create, cancel and read, whichever edge (MCP tool, REST route) sends
 * them. Every process is given the same shared idempotency keys, each with its own arguments, so
 * that the same key arrives from several processes at once, and now and then with other arguments.
 */
export class RefundTraffic {
  /** Ids of the refunds a create answered with, oldest first. */
  readonly createdIds: string[] = [];
  private readonly sharedArgs: Record<string, unknown>[];

  constructor(
    private readonly dice: Dice,
    private readonly charges: readonly WeightedCharge[],
    options: { sharedKeys: number; keyPrefix: string },
  ) {
    this.sharedArgs = Array.from({ length: options.sharedKeys }, (_, i) => ({
      transactionId: charges[i % charges.length]?.id,
      amount: 1_000 + i,
      reason: 'duplicate_charge',
      idempotencyKey: `${options.keyPrefix}${i}`,
    }));
  }

  /** create_refund arguments: a shared key with its arguments, the same key with others, or a fresh refund. */
  createArgs(): Record<string, unknown> {
    const { random, pick } = this.dice;
    const roll = random();
    if (roll < 0.35) return { ...pick(this.sharedArgs) };
    if (roll < 0.42) {
      // The same shared key with other arguments: idempotency_conflict (or first, and then the others conflict).
      const shared = pick(this.sharedArgs);
      return { ...shared, amount: (shared.amount as number) + 1 };
    }
    const args: Record<string, unknown> = {
      transactionId: this.pickCharge(),
      amount: 100 + Math.floor(random() * 900),
      reason: pick(REASONS),
    };
    if (random() < 0.5) args.idempotencyKey = `own-${Math.floor(random() * 1e12)}`;
    if (random() < 0.3) args.metadata = { orderId: `order_${Math.floor(random() * 1e6)}` };
    return args;
  }

  /** Mostly one of the newest refunds, whose submission may be in flight right now. */
  recentId(): string {
    return this.dice.random() < 0.7 ? this.dice.pick(this.createdIds.slice(-6)) : this.anyId();
  }

  anyId(): string {
    return this.dice.pick(this.createdIds);
  }

  /** The next MCP tool call: half creates, then cancels, reads and lists. */
  nextToolCall(): { tool: string; args: Record<string, unknown> } {
    const roll = this.dice.random();
    if (roll < 0.5 || this.createdIds.length === 0) return { tool: 'create_refund', args: this.createArgs() };
    if (roll < 0.85) return { tool: 'cancel_refund', args: { refundId: this.recentId() } };
    if (roll < 0.95) return { tool: 'get_refund', args: { refundId: this.anyId() } };
    return { tool: 'list_refunds', args: { status: this.dice.pick(['pending', 'processing', 'completed', 'cancelled'] as const), limit: 50 } };
  }

  private pickCharge(): string {
    const total = this.charges.reduce((sum, c) => sum + c.weight, 0);
    let roll = this.dice.random() * total;
    for (const charge of this.charges) {
      roll -= charge.weight;
      if (roll <= 0) return charge.id;
    }
    return this.charges[0]?.id ?? '';
  }
}

/** The demo's own refunds (seeded in their statuses, never sent to the imitation) are left out. */
export function withoutSeeded(snap: Snapshot, seeded: ReadonlySet<string>): Snapshot {
  return {
    refunds: snap.refunds.filter((r) => !seeded.has(r.id)),
    events: new Map([...snap.events].filter(([id]) => !seeded.has(id))),
  };
}

/** Runs `step` again and again until the deadline (the last run may end after it). */
export async function loopUntil(keepGoing: () => boolean, step: () => Promise<void>): Promise<void> {
  while (keepGoing()) await step();
}

/**
 * How long a load runs: its time, and past it, on a machine too busy to have done enough work in
 * that time, on until `enough()` (at most `extraMs` more). So the checks that the load did real work
 * judge the work, not the machine's speed.
 */
export function loadWindow(ms: number, enough: () => boolean, extraMs = 60_000): () => boolean {
  const deadline = Date.now() + ms;
  const cap = deadline + extraMs;
  return () => {
    const now = Date.now();
    return now < deadline || (now < cap && !enough());
  };
}

/**
 * One step of fault injection: when the faults injected before are spent, injects a kind picked at
 * random on an endpoint picked at random, then waits. Returns how many faults it injected.
 */
export async function injectFault(
  imitation: Pick<StripeImitation, 'pendingFaults' | 'failNext'>,
  dice: Dice,
  kinds: ReadonlyArray<{ fault: Fault; times: number }>,
  targets: readonly FaultMatch[],
  pauseMs: number,
): Promise<number> {
  let injected = 0;
  if (imitation.pendingFaults() === 0) {
    const { fault, times } = dice.pick(kinds);
    imitation.failNext(times, fault, dice.pick(targets));
    injected = times;
  }
  await sleep(pauseMs);
  return injected;
}

/**
 * After the load: dispatch passes (submissions due, statuses due) until nothing is pending and
 * every refund agrees with Stripe's, or `passes` have run. Statuses are read back every second in
 * these tests, so passes are a little over a second apart. Returns how many passes ran.
 */
export async function settleByDispatch(options: {
  passes: number;
  dispatch: () => Promise<void>;
  snapshot: () => Snapshot;
  imitation: Pick<StripeImitation, 'refunds' | 'pendingFaults'>;
}): Promise<number> {
  for (let pass = 1; pass <= options.passes; pass += 1) {
    await options.dispatch();
    const snap = options.snapshot();
    const settled =
      // A refund held for a person's approval stays pending: dispatching cannot move it.
      snap.refunds.every((r) => r.status !== 'pending' || r.next_attempt_at === null) &&
      options.imitation.pendingFaults() === 0 &&
      stripeAgreementViolations(snap, options.imitation.refunds(), { settled: true }).length === 0;
    if (settled) return pass;
    await sleep(1_100);
  }
  return options.passes;
}
