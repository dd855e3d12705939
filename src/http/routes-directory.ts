import { RefundKitError } from '../domain/errors.js';
import { clip, REFUND_ID_PATTERN } from '../domain/schemas.js';

/**
 * Which methods each path serves, as the routes were registered: what a 405's Allow header says,
 * and the list of routes a 404 gives. Fastify's router answers 404 for a known path with another
 * method; the not-found handler asks this directory whether it was a 405 after all.
 */

interface Entry {
  /** The registered path, `:name` for a parameter. */
  path: string;
  pattern: RegExp;
  /** Served methods, in the order Allow lists them. */
  methods: string[];
  /** How the 404 message lists it, e.g. `GET /v1/refunds/{id}`. */
  summary: string[];
}

function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '([^/]+)' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

const UNMATCHED = '(no route)';

/** A route's path as the 404 message lists it: the API reference writes a refund's id `{id}`. */
export function displayPath(path: string): string {
  return path.replace(/:[A-Za-z0-9_]+/g, '{id}');
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export class RoutesDirectory {
  private readonly entries: Entry[] = [];

  private entry(path: string): Entry {
    let entry = this.entries.find((e) => e.path === path);
    if (entry === undefined) {
      entry = { path, pattern: patternOf(path), methods: [], summary: [] };
      this.entries.push(entry);
    }
    return entry;
  }

  /**
   * Records what `path` serves: `methods` as Allow lists them (none for a route a read-only
   * server refuses), and the 404 message's line for the route.
   */
  add(path: string, methods: readonly string[], summary: string): void {
    const entry = this.entry(path);
    for (const method of methods) if (!entry.methods.includes(method)) entry.methods.push(method);
    entry.summary.push(summary);
  }

  /** The Allow header for a request target, or null when no route has its path. */
  allowFor(url: string): string | null {
    const path = pathOf(url);
    const entry = this.entries.find((e) => e.pattern.test(path));
    return entry === undefined ? null : entry.methods.join(', ');
  }

  /**
   * route_not_found, naming every route. The path is not repeated: the caller has it, and it may
   * carry a credential pasted into it.
   */
  notFound(method: string): RefundKitError {
    const routes = this.entries.flatMap((e) => e.summary).join(', ');
    return new RefundKitError('route_not_found', `No route for ${clip(method, 20)} at this path; routes: ${routes}`);
  }

  /**
   * What a log line says of a request target: the route whose path it has (a template, never the
   * path as sent, which may carry anything, a credential included), and the refund id when the
   * path holds a well-formed one.
   */
  logFields(url: string): { route: string; refundId?: string } {
    const path = pathOf(url);
    for (const entry of this.entries) {
      const match = entry.pattern.exec(path);
      if (match === null) continue;
      const id = match[1];
      const route = displayPath(entry.path);
      return id !== undefined && REFUND_ID_PATTERN.test(id) ? { route, refundId: id } : { route };
    }
    return { route: UNMATCHED };
  }
}
