import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_AGENT_POLICY, DEMO_AGENT_POLICY, limitsFor, parseAgentPolicy } from '../../../src/domain/guardrails/policy.js';

const valid = {
  currencies: { usd: { maxPerRefund: 100, approvalAbove: 50, dailyCount: 5, dailyAmount: 300 } },
  reasons: ['other', 'other', 'duplicate_charge'],
  cancelOthers: true,
  confirmWrites: false,
  approvalHours: 1,
};

function messageOf(input: unknown): string {
  try {
    parseAgentPolicy(input);
  } catch (error) {
    if (error instanceof z.ZodError) return error.issues.map((issue) => issue.message).join('; ');
    throw error;
  }
  return 'accepted';
}

describe('parseAgentPolicy', () => {
  it('accepts a complete policy and drops repeated reasons', () => {
    expect(parseAgentPolicy(valid).reasons).toEqual(['other', 'duplicate_charge']);
  });

  it('refuses an approval threshold above the maximum, which would leave a gap no rule decides', () => {
    const gap = { ...valid, currencies: { usd: { ...valid.currencies.usd, approvalAbove: 101 } } };
    expect(messageOf(gap)).toContain('approvalAbove must not exceed maxPerRefund');
    const equal = { ...valid, currencies: { usd: { ...valid.currencies.usd, approvalAbove: 100 } } };
    expect(messageOf(equal)).toBe('accepted');
  });

  it('refuses unknown fields, unknown reasons, bad currency keys, negative or fractional amounts', () => {
    expect(messageOf({ ...valid, unlimited: true })).not.toBe('accepted');
    expect(messageOf({ ...valid, reasons: ['because'] })).not.toBe('accepted');
    expect(messageOf({ ...valid, currencies: { USD: valid.currencies.usd } })).toContain('three lowercase letters');
    // Only a bad key gets that message: a currencies value that is no object at all gets zod's own.
    expect(messageOf({ ...valid, currencies: 'usd' })).not.toContain('three lowercase letters');
    expect(messageOf({ ...valid, currencies: { usd: { ...valid.currencies.usd, dailyAmount: -1 } } })).not.toBe('accepted');
    expect(messageOf({ ...valid, currencies: { usd: { ...valid.currencies.usd, maxPerRefund: 1.5 } } })).not.toBe('accepted');
  });

  it('keeps approval expiry between an hour and 30 days', () => {
    expect(messageOf({ ...valid, approvalHours: 0 })).not.toBe('accepted');
    expect(messageOf({ ...valid, approvalHours: 720 })).toBe('accepted');
    expect(messageOf({ ...valid, approvalHours: 721 })).not.toBe('accepted');
  });

  it('finds the shipped policies valid', () => {
    expect(parseAgentPolicy(DEFAULT_AGENT_POLICY)).toEqual(DEFAULT_AGENT_POLICY);
    expect(parseAgentPolicy(DEMO_AGENT_POLICY)).toEqual(DEMO_AGENT_POLICY);
  });
});

describe('limitsFor', () => {
  it('reads own entries only', () => {
    expect(limitsFor(DEFAULT_AGENT_POLICY, 'usd')).toBeDefined();
    expect(limitsFor(DEFAULT_AGENT_POLICY, 'toString')).toBeUndefined();
    expect(limitsFor(DEFAULT_AGENT_POLICY, '__proto__')).toBeUndefined();
  });
});
