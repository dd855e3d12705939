import { createApp } from '../app.js';
import type { Config } from '../config.js';
import type { Scope } from '../domain/guardrails/scopes.js';
import { keyLabel } from '../domain/key-name.js';
import type { ApiKeyMode } from '../domain/ports.js';
import { CommandError, type Io } from './common.js';

export const KEYS_HELP = `Usage:
  refundkit-mcp keys create --org ORG_ID --name NAME [--mode live|test] [--scopes read,write,approve,admin]
      create an API key for the organization; prints it alone on the last line. NAME (1 to 100
      characters, e.g. "Support agent") is how the dashboard and keys list show it. It is shown
      this once: only its hash is stored. Scopes (default read,write): read looks refunds up,
      write creates and cancels them (within the agent policy), approve decides approval
      requests over REST, admin sets the policy and manages keys over REST.
  refundkit-mcp keys revoke --id KEY_ID | --key API_KEY
      revoke a key; requests with it are refused from then on.
  refundkit-mcp keys list --org ORG_ID
      list the organization's keys, one a line, tab-separated: id, prefix, mode, created,
      revoked, scopes, name (empty for a key made before keys had names).`;

export async function runKeysCreate(
  config: Readonly<Config>,
  organizationId: string,
  mode: ApiKeyMode,
  io: Io,
  options: { name: string; scopes?: readonly Scope[] },
): Promise<void> {
  const app = await createApp(config);
  try {
    if ((await app.organizations.findById(organizationId)) === null) {
      throw new CommandError(`no organization ${organizationId}; create one with: refundkit-mcp orgs create --name NAME`);
    }
    const { key, record } = await app.apiKeys.create(organizationId, mode, options);
    io.err(`created key ${keyLabel(record)} for ${organizationId} with scopes ${record.scopes.join(',')}; it is shown only once:`);
    io.out(key);
  } finally {
    await app.close();
  }
}

export async function runKeysRevoke(config: Readonly<Config>, target: { id?: string; key?: string }, io: Io): Promise<void> {
  const app = await createApp(config);
  try {
    const record =
      target.id !== undefined
        ? await app.apiKeys.findById(target.id)
        : target.key !== undefined
          ? await app.apiKeys.findByKey(target.key)
          : null;
    if (record === null) throw new CommandError('no such API key');
    if (!(await app.apiKeys.revoke(record.id))) throw new CommandError(`API key ${record.id} was already revoked`);
    io.out(`revoked ${keyLabel(record)}`);
  } finally {
    await app.close();
  }
}

export async function runKeysList(config: Readonly<Config>, organizationId: string, io: Io): Promise<void> {
  const app = await createApp(config);
  try {
    for (const key of await app.apiKeys.listForOrganization(organizationId)) {
      io.out(`${key.id}\t${key.displayPrefix}…\t${key.mode}\t${key.createdAt}\t${key.revokedAt ?? 'active'}\t${key.scopes.join(',')}\t${key.name ?? ''}`);
    }
  } finally {
    await app.close();
  }
}
