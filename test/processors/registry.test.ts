import { describe, expect, it } from 'vitest';
import type { CancelOutcome, RefundProcessor } from '../../src/domain/ports.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SandboxProcessor } from '../../src/processors/sandbox.js';

const named = (name: string): RefundProcessor => ({
  name,
  cancel: (): Promise<CancelOutcome> => Promise.resolve({ accepted: true }),
  submit: () => Promise.reject(new Error('not used')),
  retrieve: () => Promise.reject(new Error('not used')),
  findSubmitted: () => Promise.resolve(null),
});

describe('StaticProcessorRegistry', () => {
  it('finds configured processors by name', () => {
    const sandbox = new SandboxProcessor();
    const other = named('other');
    const registry = new StaticProcessorRegistry([sandbox, other]);
    expect(registry.lookup('sandbox')).toEqual({ ok: true, processor: sandbox });
    const found = registry.lookup('other');
    expect(found.ok && found.processor).toBe(other);
    expect(registry.names()).toEqual(['sandbox', 'other']);
  });

  it('a known but unconfigured processor comes back with its hint', () => {
    const registry = new StaticProcessorRegistry([new SandboxProcessor()], { stripe: 'set STRIPE_SECRET_KEY' });
    expect(registry.lookup('stripe')).toEqual({ ok: false, hint: 'set STRIPE_SECRET_KEY' });
  });

  it('an unknown processor gets a generic hint', () => {
    const lookup = new StaticProcessorRegistry([new SandboxProcessor()]).lookup('adyen');
    expect(lookup.ok).toBe(false);
    if (lookup.ok) return;
    expect(lookup.hint).toMatch(/no adapter/);
  });

  it('a configured processor wins over a hint of the same name', () => {
    const stripe = named('stripe');
    const registry = new StaticProcessorRegistry([stripe], { stripe: 'set STRIPE_SECRET_KEY' });
    expect(registry.lookup('stripe')).toEqual({ ok: true, processor: stripe });
  });

  it('names are matched exactly', () => {
    const registry = new StaticProcessorRegistry([new SandboxProcessor()]);
    expect(registry.lookup('Sandbox').ok).toBe(false);
    expect(registry.lookup('toString').ok).toBe(false);
    expect(registry.lookup('constructor').ok).toBe(false);
  });

  it('the default processor is the one named, else the first configured', () => {
    const sandbox = new SandboxProcessor();
    const stripe = named('stripe');
    expect(new StaticProcessorRegistry([sandbox, stripe]).defaultProcessor).toBe('sandbox');
    expect(new StaticProcessorRegistry([sandbox, stripe], {}, 'stripe').defaultProcessor).toBe('stripe');
    expect(() => new StaticProcessorRegistry([])).toThrow(/at least one processor/);
  });
});
