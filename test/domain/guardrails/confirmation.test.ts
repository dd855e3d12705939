import { describe, expect, it } from 'vitest';
import { cancelPrompt, createPrompt, formatMoney, notConfirmedMessage, withConfirmation } from '../../../src/domain/guardrails/confirmation.js';

describe('formatMoney', () => {
  it('gives the amount for a person and in minor units', () => {
    expect(formatMoney(2500, 'usd')).toBe('$25.00 (2500 usd)');
    expect(formatMoney(1999, 'eur')).toBe('€19.99 (1999 eur)');
    // Zero-decimal currencies: 2500 yen is 2500 yen, not 25.
    expect(formatMoney(2500, 'jpy')).toBe('¥2,500 (2500 jpy)');
  });

  it('a code Intl does not know is not guessed at', () => {
    expect(formatMoney(100, 'zzq')).toMatch(/\(100 zzq\)$/);
    expect(formatMoney(100, 'zzq')).not.toContain('1.00');
  });
});

describe('prompts', () => {
  it('create: amount both ways, transaction and reason in plain words', () => {
    const { action, message } = createPrompt({ amount: 2500, currency: 'usd', transactionId: 'ch_123', reason: 'duplicate_charge' });
    expect(action).toBe('create_refund');
    expect(message).toContain('$25.00 (2500 usd)');
    expect(message).toContain('ch_123');
    expect(message).toContain('duplicate charge');
  });

  it('cancel: refund id, amount and status', () => {
    const { action, message } = cancelPrompt({ id: 're_abc', amount: 1000, currency: 'gbp', status: 'pending', transactionId: 'ch_9' });
    expect(action).toBe('cancel_refund');
    expect(message).toContain('re_abc');
    expect(message).toContain('£10.00 (1000 gbp)');
    expect(message).toContain('pending');
  });
});

describe('withConfirmation', () => {
  const wants = { outcome: 'allow', confirm: true } as const;

  it('a confirmed refund goes ahead', () => {
    expect(withConfirmation(wants, true, true)).toEqual({ outcome: 'allow', confirm: false });
  });

  it('one nobody confirmed waits for approval, never goes ahead; the message says why', () => {
    const cannot = withConfirmation(wants, false, false);
    expect(cannot).toMatchObject({ outcome: 'approval', rule: 'confirmation' });
    expect(cannot.outcome === 'approval' ? cannot.message : '').toContain('cannot ask');
    expect(withConfirmation(wants, false, true)).toMatchObject({ outcome: 'approval', rule: 'confirmation' });
  });

  it('only narrows: a refusal, an approval, or no confirmation wanted pass through unchanged', () => {
    const deny = { outcome: 'deny', rule: 'max_per_refund', message: 'no' } as const;
    const wait = { outcome: 'approval', rule: 'approval_threshold', message: 'wait' } as const;
    const plain = { outcome: 'allow', confirm: false } as const;
    for (const decision of [deny, wait, plain]) {
      expect(withConfirmation(decision, true, true)).toBe(decision);
      expect(withConfirmation(decision, false, false)).toBe(decision);
    }
  });
});

it('notConfirmedMessage says who said what and that nothing happened', () => {
  expect(notConfirmedMessage('declined', 'cancelling re_1', 'nothing changed')).toMatch(/^The person at the client declined cancelling re_1: nothing changed\./);
  expect(notConfirmedMessage('cancelled', 'x', 'nothing was created')).toContain('dismissed');
  expect(notConfirmedMessage('unanswered', 'x', 'nothing was created')).toContain('No answer');
});

describe('formatMoney and withConfirmation, the cases left', () => {
  it('a three-decimal currency: 1234 fils are 1.234 dinars, not 12.34', () => {
    expect(formatMoney(1234, 'kwd')).toBe('KWD\u00a01.234 (1234 kwd)');
    expect(formatMoney(5, 'bhd')).toBe('BHD\u00a00.005 (5 bhd)');
  });

  it('one the person could have confirmed but did not: the message says so, not that the client cannot ask', () => {
    expect(withConfirmation({ outcome: 'allow', confirm: true }, false, true)).toEqual({
      outcome: 'approval',
      rule: 'confirmation',
      message: "This organization's policy asks the person at the client to confirm each agent refund, and this one was not confirmed: it waits for a person's approval",
    });
  });
});
