import { createApp } from '../app.js';
import type { Config } from '../config.js';
import type { ApiKeyMode } from '../store/sqlite/api-key-store.js';
import { CommandError, type Io } from './common.js';

export const KEYS_HELP = `Usage:
  refundkit-mcp keys create --org ORG_ID [--mode live|test]
      create an API key for the organization; prints it alone on the last line. It is shown
      this once: only its hash is stored.
  refundkit-mcp keys revoke --id KEY_ID | --key API_KEY
      revoke a key; requests with it are refused from then on.
  refundkit-mcp keys list --org ORG_ID
      list the organization's keys (id, prefix, mode, created, revoked).`;

export function runKeysCreate(config: Readonly<Config>, organizationId: string, mode: ApiKeyMode, io: Io): void {
  const app = createApp(config);
  try {
    if (app.organizations.findById(organizationId) === null) {
      throw new CommandError(`no organization ${organizationId}; create one with: refundkit-mcp orgs create --name NAME`);
    }
    const { key, record } = app.apiKeys.create(organizationId, mode);
    io.err(`created key ${record.id} (${record.displayPrefix}…) for ${organizationId}; it is shown only once:`);
    io.out(key);
  } finally {
    app.close();
  }
}

export function runKeysRevoke(config: Readonly<Config>, target: { id?: string; key?: string }, io: Io): void {
  const app = createApp(config);
  try {
    const record =
      target.id !== undefined
        ? app.apiKeys.findById(target.id)
        : target.key !== undefined
          ? app.apiKeys.findByKey(target.key)
          : null;
    if (record === null) throw new CommandError('no such API key');
    if (!app.apiKeys.revoke(record.id)) throw new CommandError(`API key ${record.id} was already revoked`);
    io.out(`revoked ${record.id} (${record.displayPrefix}…)`);
  } finally {
    app.close();
  }
}

export function runKeysList(config: Readonly<Config>, organizationId: string, io: Io): void {
  const app = createApp(config);
  try {
    for (const key of app.apiKeys.listForOrganization(organizationId)) {
      io.out(`${key.id}\t${key.displayPrefix}…\t${key.mode}\t${key.createdAt}\t${key.revokedAt ?? 'active'}`);
    }
  } finally {
    app.close();
  }
}
