/**
 * What the domain needs from the outside world. Adapters (SQLite, Stripe, the sandbox) implement
 * these; the domain never imports them. Every store port is asynchronous and coarse-grained (one
 * method, one atomic operation), so that another database can implement the same interfaces.
 */
export type * from './ports/accounts.js';
export type * from './ports/guardrails.js';
export type * from './ports/operators.js';
export type * from './ports/processor.js';
export type * from './ports/refund-store.js';
export type * from './ports/webhook-events.js';
export type * from './ports/stores.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
