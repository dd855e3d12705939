import { describe, expect, it } from 'vitest';
import { checkDecision, deciderLabel, expiryFor, isExpired, type ApprovalRequest } from '../../../src/domain/guardrails/approval.js';

const createdAt = new Date('2026-12-01T10:00:00.000Z');
const approval: ApprovalRequest = {
  id: 'apr_aaaaaaaaaaaa',
  organizationId: 'org_1',
  refundId: 'ref_aaaaaaaaaaaa',
  amount: 6_000,
  currency: 'usd',
  reason: 'duplicate_charge',
  transactionId: 'ch_1',
  requestedByKeyId: 'key_agent',
  rule: 'approval_threshold',
  ruleMessage: 'Refund of 6000 usd is above the approval threshold of 5000 usd',
  status: 'requested',
  decidedBy: null,
  decidedAt: null,
  note: null,
  expiresAt: expiryFor(createdAt, 24),
  createdAt: createdAt.toISOString(),
};
const operator = { kind: 'operator', name: 'dana' } as const;
const justBefore = new Date(Date.parse(approval.expiresAt) - 1);
const atExpiry = new Date(approval.expiresAt);

describe('checkDecision', () => {
  it('an operator approves or rejects an open request', () => {
    expect(checkDecision(approval, 'approve', operator, justBefore, undefined)).toEqual({ ok: true, status: 'approved' });
    expect(checkDecision(approval, 'reject', operator, justBefore, 'not this one')).toEqual({ ok: true, status: 'rejected' });
  });

  it('a key with the approver scope may decide, but never on its own agent’s request', () => {
    expect(checkDecision(approval, 'approve', { kind: 'key', keyId: 'key_other', name: 'lead' }, justBefore, undefined)).toEqual({
      ok: true,
      status: 'approved',
    });
    expect(checkDecision(approval, 'approve', { kind: 'key', keyId: 'key_agent', name: 'agent' }, justBefore, undefined)).toEqual({
      ok: false,
      code: 'forbidden',
      message: 'A key cannot decide an approval its own agent requested (apr_aaaaaaaaaaaa)',
    });
  });

  it('at its expiry instant a request is expired, whatever the verdict', () => {
    expect(checkDecision(approval, 'approve', operator, atExpiry, undefined)).toEqual({ ok: true, status: 'expired' });
    expect(isExpired(approval, justBefore)).toBe(false);
    expect(isExpired(approval, atExpiry)).toBe(true);
  });

  it('a decided request cannot be decided again', () => {
    for (const status of ['approved', 'rejected', 'expired'] as const) {
      expect(checkDecision({ ...approval, status }, 'approve', operator, justBefore, undefined)).toEqual({
        ok: false,
        code: 'approval_not_open',
        message: `Approval apr_aaaaaaaaaaaa is already ${status}`,
      });
      expect(isExpired({ ...approval, status }, atExpiry)).toBe(false);
    }
  });

  it('limits the note to 500 characters', () => {
    expect(checkDecision(approval, 'reject', operator, justBefore, 'x'.repeat(500))).toMatchObject({ ok: true });
    expect(checkDecision(approval, 'reject', operator, justBefore, 'x'.repeat(501))).toEqual({
      ok: false,
      code: 'validation_error',
      message: 'Note must be at most 500 characters',
    });
  });
});

describe('expiryFor and deciderLabel', () => {
  it('adds whole hours and labels who decided', () => {
    expect(expiryFor(createdAt, 72)).toBe('2026-12-04T10:00:00.000Z');
    expect(deciderLabel(operator)).toBe('operator:dana');
    expect(deciderLabel({ kind: 'key', keyId: 'key_x', name: 'x' })).toBe('key:key_x');
  });
});
