/**
 * The caps on /mcp sessions (per key, per organization, per process) and what a refusal says:
 * the message names the setting, so an operator knows what to raise.
 */

/** Sessions (open or being opened) per organization, or per key. */
export class Tally {
  private readonly counts = new Map<string, number>();

  get(id: string): number {
    return this.counts.get(id) ?? 0;
  }

  add(id: string, delta: number): void {
    const next = this.get(id) + delta;
    if (next <= 0) this.counts.delete(id);
    else this.counts.set(id, next);
  }
}

/** Why a new session cannot be had now: the JSON-RPC error and its HTTP status. */
export interface Refusal {
  status: 429 | 503;
  message: string;
}

export function perKeyRefusal(max: number): Refusal {
  return {
    status: 429,
    message: `Too many MCP sessions for this API key: it holds ${max} (REFUNDKIT_MCP_MAX_SESSIONS_PER_KEY), each with a request in progress. End one with DELETE /mcp, or retry later`,
  };
}

export function perOrgRefusal(max: number): Refusal {
  return {
    status: 429,
    message: `Too many MCP sessions for this organization: it holds ${max} (REFUNDKIT_MCP_MAX_SESSIONS_PER_ORG), none of them an idle one of this key. End one with DELETE /mcp, or retry later`,
  };
}

export function ceilingRefusal(max: number): Refusal {
  return {
    status: 503,
    message: `This server holds as many MCP sessions as it allows (${max}, REFUNDKIT_MCP_MAX_SESSIONS); retry later`,
  };
}
