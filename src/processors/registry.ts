import type { ProcessorLookup, ProcessorRegistry, RefundProcessor } from '../domain/ports.js';

/**
 * The processors this server can use. A processor that exists in RefundKit but is not configured
 * here (Stripe without a secret key) is known by name with a hint saying what to set.
 */
export class StaticProcessorRegistry implements ProcessorRegistry {
  private readonly configured = new Map<string, RefundProcessor>();

  readonly defaultProcessor: string;

  constructor(
    processors: readonly RefundProcessor[],
    private readonly missingHints: Readonly<Record<string, string>> = {},
    defaultProcessor?: string,
  ) {
    for (const processor of processors) this.configured.set(processor.name, processor);
    const fallback = processors[0]?.name;
    const chosen = defaultProcessor ?? fallback;
    if (chosen === undefined) throw new Error('at least one processor must be configured');
    this.defaultProcessor = chosen;
  }

  lookup(name: string): ProcessorLookup {
    const processor = this.configured.get(name);
    if (processor !== undefined) return { ok: true, processor };
    return {
      ok: false,
      hint: this.missingHints[name] ?? 'this RefundKit server has no adapter for it',
    };
  }

  names(): string[] {
    return [...this.configured.keys()];
  }
}
