import { describe, expect, it } from 'vitest';
import {
  ACTORS,
  allowedTransitions,
  canTransition,
  INITIATORS,
  isActor,
  isCancellable,
  isInitiator,
  isRefundStatus,
  REFUND_STATUSES,
  type RefundStatus,
} from '../../src/domain/refund.js';

/** The whole status machine, written out by hand: each row lists where a status may go. */
const LEGAL: Record<RefundStatus, RefundStatus[]> = {
  pending: ['processing', 'completed', 'failed', 'cancelled'],
  processing: ['completed', 'failed', 'cancelled'],
  completed: ['failed'],
  failed: [],
  cancelled: [],
};

const ALL_PAIRS = REFUND_STATUSES.flatMap((from) => REFUND_STATUSES.map((to) => [from, to] as const));

describe('refund status machine', () => {
  it('has exactly the five statuses of the reference', () => {
    expect([...REFUND_STATUSES]).toEqual(['pending', 'processing', 'completed', 'failed', 'cancelled']);
  });

  it('covers all 25 pairs', () => {
    expect(ALL_PAIRS).toHaveLength(25);
  });

  it.each(ALL_PAIRS)('%s -> %s follows the table', (from, to) => {
    expect(canTransition(from, to)).toBe(LEGAL[from].includes(to));
  });

  it('never allows a status to move to itself', () => {
    for (const status of REFUND_STATUSES) expect(canTransition(status, status)).toBe(false);
  });

  it('nothing leaves failed or cancelled', () => {
    for (const to of REFUND_STATUSES) {
      expect(canTransition('failed', to)).toBe(false);
      expect(canTransition('cancelled', to)).toBe(false);
    }
  });

  it('nothing returns to pending', () => {
    for (const from of REFUND_STATUSES) expect(canTransition(from, 'pending')).toBe(false);
  });

  it.each(REFUND_STATUSES)('allowedTransitions(%s) lists the legal targets', (from) => {
    expect([...allowedTransitions(from)].sort()).toEqual([...LEGAL[from]].sort());
  });
});

describe('isCancellable', () => {
  it.each([
    ['pending', true],
    ['processing', true],
    ['completed', false],
    ['failed', false],
    ['cancelled', false],
  ] as const)('%s -> %s', (status, expected) => {
    expect(isCancellable(status)).toBe(expected);
  });

  it('every cancellable status can legally move to cancelled', () => {
    for (const status of REFUND_STATUSES) {
      if (isCancellable(status)) expect(canTransition(status, 'cancelled')).toBe(true);
    }
  });
});

describe('type guards', () => {
  it('isRefundStatus accepts the five statuses only', () => {
    for (const status of REFUND_STATUSES) expect(isRefundStatus(status)).toBe(true);
    for (const bad of ['', 'PENDING', 'canceled', 'succeeded', 'requires_action']) expect(isRefundStatus(bad)).toBe(false);
  });

  it('initiators are api, dashboard, mcp; actors add system', () => {
    expect([...INITIATORS]).toEqual(['api', 'dashboard', 'mcp']);
    expect([...ACTORS]).toEqual(['api', 'dashboard', 'mcp', 'system']);
    expect(isInitiator('system')).toBe(false);
    expect(isActor('system')).toBe(true);
    expect(isInitiator('mcp')).toBe(true);
    expect(isActor('cli')).toBe(false);
  });
});
