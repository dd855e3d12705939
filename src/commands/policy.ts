/**
 * `refundkit-mcp policy show|set|refusals`: an organization's agent policy, read and set by an
 * operator on the host, and the agent writes it refused. No agent key and no MCP tool can reach this.
 */
import { readFileSync } from 'node:fs';
import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { DEFAULT_AGENT_POLICY, parseAgentPolicy, type AgentPolicy } from '../domain/guardrails/policy.js';
import { CommandError, flags, required, UsageError, type Io } from './common.js';

export const POLICY_HELP = `Usage:
  refundkit-mcp policy show --org ORG_ID
      print the organization's agent policy as JSON (stdout); who set it and when on stderr.
  refundkit-mcp policy set --org ORG_ID [--as OPERATOR_NAME] --file policy.json
      replace the policy with the file's (the JSON policy show prints; every field is checked).
  refundkit-mcp policy set --org ORG_ID [--as OPERATOR_NAME] [--currency CUR --max-per-refund N
      --approval-above N --daily-count N --daily-amount N] [--reasons a,b] [--cancel-others yes|no]
      [--confirm-writes yes|no] [--approval-hours N]
      change part of the current policy. Amounts are in minor units (2500 = 25.00 usd). A refund
      by an agent above --max-per-refund is refused, above --approval-above waits for a person;
      --daily-count and --daily-amount bound agents' refunds per currency over 24 hours. A currency
      the policy does not list: every agent refund in it waits for approval.
  refundkit-mcp policy refusals --org ORG_ID [--limit N]
      the agents' creates the policy refused, or the person at the client did not confirm, newest
      first (default 50): one tab-separated line each (at, outcome, rule, key, amount, currency,
      transaction, reason, message). Nothing was created for them.`;

const LIMIT_FLAGS = { 'max-per-refund': 'maxPerRefund', 'approval-above': 'approvalAbove', 'daily-count': 'dailyCount', 'daily-amount': 'dailyAmount' } as const;

const SET_FLAGS = {
  org: { type: 'string' },
  as: { type: 'string' },
  file: { type: 'string' },
  currency: { type: 'string' },
  'max-per-refund': { type: 'string' },
  'approval-above': { type: 'string' },
  'daily-count': { type: 'string' },
  'daily-amount': { type: 'string' },
  reasons: { type: 'string' },
  'cancel-others': { type: 'string' },
  'confirm-writes': { type: 'string' },
  'approval-hours': { type: 'string' },
} as const;

type SetValues = ReturnType<typeof flags<typeof SET_FLAGS>>;

export async function runPolicy(args: string[], config: () => Readonly<Config>, io: Io): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'show') {
    const values = flags(rest, { org: { type: 'string' } });
    if (values.help === true) return io.out(POLICY_HELP);
    return show(config(), required(values.org, '--org'), io);
  }
  if (sub === 'set') {
    const values = flags(rest, SET_FLAGS);
    if (values.help === true) return io.out(POLICY_HELP);
    return set(config(), values, io);
  }
  if (sub === 'refusals') {
    const values = flags(rest, { org: { type: 'string' }, limit: { type: 'string' } });
    if (values.help === true) return io.out(POLICY_HELP);
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
    return refusals(config(), required(values.org, '--org'), limit, io);
  }
  throw new UsageError(`unknown policy command '${sub ?? ''}'\n\n${POLICY_HELP}`);
}

async function refusals(config: Readonly<Config>, organizationId: string, limit: number, io: Io): Promise<void> {
  const app = await createApp(config);
  try {
    if ((await app.organizations.findById(organizationId)) === null) throw new CommandError(`no organization ${organizationId}`);
    const rows = await app.guardrails.listRefusals(organizationId, limit);
    if (rows.length === 0) io.err('no refusals');
    for (const r of rows) io.out([r.at, r.outcome, r.rule, r.keyId, r.amount, r.currency, r.transactionId, r.reason, r.message].join('\t'));
  } finally {
    await app.close();
  }
}

async function show(config: Readonly<Config>, organizationId: string, io: Io): Promise<void> {
  const app = await createApp(config);
  try {
    if ((await app.organizations.findById(organizationId)) === null) throw new CommandError(`no organization ${organizationId}`);
    const stored = await app.guardrails.policy(organizationId);
    io.err(stored === null ? `${organizationId} has never set a policy: the default applies` : `set by ${stored.updatedBy} at ${stored.updatedAt}`);
    io.out(JSON.stringify(stored?.policy ?? DEFAULT_AGENT_POLICY, null, 2));
  } finally {
    await app.close();
  }
}

async function set(config: Readonly<Config>, values: SetValues, io: Io): Promise<void> {
  const organizationId = required(values.org, '--org');
  const operator = values.as ?? 'cli';
  if (!/^[\w.@-]{1,100}$/.test(operator)) throw new UsageError('--as must be 1 to 100 letters, digits, or . _ @ -');
  const app = await createApp(config);
  try {
    if ((await app.organizations.findById(organizationId)) === null) throw new CommandError(`no organization ${organizationId}`);
    const current = (await app.guardrails.policy(organizationId))?.policy ?? DEFAULT_AGENT_POLICY;
    const next = values.file === undefined ? withFlags(current, values) : fromFile(values.file);
    let policy: AgentPolicy;
    try {
      policy = parseAgentPolicy(next);
    } catch (error) {
      throw new CommandError(`the policy is not valid: ${error instanceof Error ? error.message.replace(/\s+/g, ' ') : String(error)}`);
    }
    await app.guardrails.setPolicy(organizationId, policy, `operator:${operator}`, new Date().toISOString());
    io.err(`policy of ${organizationId} set by operator:${operator}`);
    io.out(JSON.stringify(policy, null, 2));
  } finally {
    await app.close();
  }
}

function fromFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CommandError(`cannot read ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CommandError(`${path} is not JSON`);
  }
}

function withFlags(current: AgentPolicy, values: SetValues): unknown {
  const next: Record<string, unknown> = { ...current, currencies: { ...current.currencies } };
  const limitsGiven = Object.keys(LIMIT_FLAGS).filter((flag) => values[flag as keyof typeof LIMIT_FLAGS] !== undefined);
  if (values.currency !== undefined) {
    const currency = values.currency.toLowerCase();
    const limits: Record<string, unknown> = { ...(current.currencies[currency] ?? {}) };
    for (const [flag, field] of Object.entries(LIMIT_FLAGS)) {
      const value = values[flag as keyof typeof LIMIT_FLAGS];
      if (value !== undefined) limits[field] = integer(value, `--${flag}`);
    }
    (next.currencies as Record<string, unknown>)[currency] = limits;
  } else if (limitsGiven.length > 0) {
    throw new UsageError(`--${limitsGiven[0] ?? ''} needs --currency`);
  }
  if (values.reasons !== undefined) next.reasons = values.reasons.split(',').map((reason) => reason.trim()).filter((reason) => reason !== '');
  if (values['cancel-others'] !== undefined) next.cancelOthers = yesNo(values['cancel-others'], '--cancel-others');
  if (values['confirm-writes'] !== undefined) next.confirmWrites = yesNo(values['confirm-writes'], '--confirm-writes');
  if (values['approval-hours'] !== undefined) next.approvalHours = integer(values['approval-hours'], '--approval-hours');
  return next;
}

function integer(text: string, flag: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`${flag} must be a whole number, not '${text}'`);
  return Number(text);
}

function yesNo(text: string, flag: string): boolean {
  if (text === 'yes' || text === 'true') return true;
  if (text === 'no' || text === 'false') return false;
  throw new UsageError(`${flag} must be yes or no, not '${text}'`);
}
