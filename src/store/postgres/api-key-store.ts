/**
 * API keys in PostgreSQL: only a SHA-256 of each key and a short prefix are stored, as in SQLite.
 * No answer is cached: every authenticate and isLive reads the row (one lookup along a unique
 * index), so a key revoked by the CLI or by any other process is refused by every process at its
 * very next call. SQLite's cache rests on data_version, which has no PostgreSQL counterpart
 * across hosts; the lookup costs less than the request around it.
 */
import { timingSafeEqual } from 'node:crypto';
import { DEFAULT_KEY_SCOPES, SCOPE_NAMES, isScope, type Scope } from '../../domain/guardrails/scopes.js';
import { API_KEY_PATTERN, newApiKeyId, newApiKeySecret } from '../../domain/ids.js';
import type { ApiKeyIdentity, ApiKeyMode, ApiKeyRecord, ApiKeyStore } from '../../domain/ports.js';
import { hashApiKey } from '../sqlite/api-key-store.js';
import type { PgPool } from './database.js';

interface ApiKeyRow {
  id: string;
  organization_id: string;
  key_hash: string;
  display_prefix: string;
  name: string | null;
  mode: ApiKeyMode;
  scopes: string;
  created_at: string;
  revoked_at: string | null;
}

const COLUMNS = 'id, organization_id, key_hash, display_prefix, name, mode, scopes, created_at, revoked_at';

/** The part of a key kept in clear: `rk_live_` plus four characters. */
const DISPLAY_PREFIX_LENGTH = 12;

/** The stored list, read strictly: an unknown name is a corrupt row, not a scope to ignore. */
function scopesOf(row: ApiKeyRow): Scope[] {
  const names = row.scopes.split(',');
  const scopes = names.filter(isScope);
  if (scopes.length !== names.length) throw new Error(`API key ${row.id} has unknown scopes ${row.scopes}`);
  return SCOPE_NAMES.filter((scope) => scopes.includes(scope));
}

export class PostgresApiKeyStore implements ApiKeyStore {
  constructor(private readonly pool: PgPool) {}

  async create(
    organizationId: string,
    mode: ApiKeyMode,
    options: { secret?: string; at?: string; scopes?: readonly Scope[]; name?: string } = {},
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    const key = options.secret ?? newApiKeySecret(mode);
    const record: ApiKeyRecord = {
      id: newApiKeyId(),
      organizationId,
      displayPrefix: key.slice(0, DISPLAY_PREFIX_LENGTH),
      name: options.name ?? null,
      mode,
      scopes: SCOPE_NAMES.filter((scope) => (options.scopes ?? DEFAULT_KEY_SCOPES).includes(scope)),
      createdAt: options.at ?? new Date().toISOString(),
      revokedAt: null,
    };
    await this.pool.query(
      `INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, name, mode, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [record.id, organizationId, hashApiKey(key), record.displayPrefix, record.name, mode, record.scopes.join(','), record.createdAt],
    );
    return { key, record };
  }

  async authenticate(key: string): Promise<ApiKeyIdentity | null> {
    if (!API_KEY_PATTERN.test(key)) return null;
    const hash = hashApiKey(key);
    const row = await this.row('key_hash', hash);
    if (row === undefined || row.revoked_at !== null) return null;
    // The lookup is by hash, so timing reveals nothing about the key; compare anyway so that
    // correctness never rests on the index alone.
    if (!timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex'))) return null;
    return { organizationId: row.organization_id, keyId: row.id, scopes: scopesOf(row) };
  }

  async isLive(keyId: string): Promise<boolean> {
    const row = await this.row('id', keyId);
    return row !== undefined && row.revoked_at === null;
  }

  async findByKey(key: string): Promise<ApiKeyRecord | null> {
    const row = await this.row('key_hash', hashApiKey(key));
    return row === undefined ? null : toRecord(row);
  }

  async findById(id: string): Promise<ApiKeyRecord | null> {
    const row = await this.row('id', id);
    return row === undefined ? null : toRecord(row);
  }

  async listForOrganization(organizationId: string): Promise<ApiKeyRecord[]> {
    const { rows } = await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE organization_id = $1 ORDER BY created_at, id`, [
      organizationId,
    ]);
    return rows.map(toRecord);
  }

  async revoke(id: string, at: string = new Date().toISOString()): Promise<boolean> {
    const result = await this.pool.query('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
    return result.rowCount === 1;
  }

  private async row(column: 'id' | 'key_hash', value: string): Promise<ApiKeyRow | undefined> {
    const { rows } = await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE ${column} = $1`, [value]);
    return rows[0];
  }
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    organizationId: row.organization_id,
    displayPrefix: row.display_prefix,
    name: row.name,
    mode: row.mode,
    scopes: scopesOf(row),
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
