/**
 * API keys. Only a SHA-256 of each key is stored, with a short prefix to recognise it by; a key
 * is checked by hashing what the caller sent and comparing hashes in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { DEFAULT_KEY_SCOPES, SCOPE_NAMES, isScope, type Scope } from '../../domain/guardrails/scopes.js';
import { API_KEY_PATTERN, newApiKeyId, newApiKeySecret } from '../../domain/ids.js';
import type { ApiKeyIdentity, ApiKeyMode, ApiKeyRecord, ApiKeyStore } from '../../domain/ports.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';
import { promised } from './promised.js';

export type { ApiKeyMode, ApiKeyRecord } from '../../domain/ports.js';

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

type CreateOptions = { secret?: string; at?: string; scopes?: readonly Scope[]; name?: string };

/** The stored list, read strictly: an unknown name is a corrupt row, not a scope to ignore. */
function scopesOf(row: ApiKeyRow): Scope[] {
  const names = row.scopes.split(',');
  const scopes = names.filter(isScope);
  if (scopes.length !== names.length) throw new Error(`API key ${row.id} has unknown scopes ${row.scopes}`);
  return SCOPE_NAMES.filter((scope) => scopes.includes(scope));
}

/** The part of a key kept in clear: `rk_live_` plus four characters. */
const DISPLAY_PREFIX_LENGTH = 12;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Bounds the verified-key cache; an API server sees a handful of keys, not thousands. */
const MAX_VERIFIED_KEYS = 1_000;

export class SqliteApiKeyStore implements ApiKeyStore {
  /** Prepared once: authenticate runs on every REST request, isLive on every stdio tool call. */
  private byHash: Statement<[string], ApiKeyRow> | undefined;
  private byId: Statement<[string], ApiKeyRow> | undefined;
  private dataVersion: Statement<[], number> | undefined;
  /**
   * Keys found live, by hash, as of `verifiedAt` (SQLite's data_version, which changes whenever
   * another connection commits). A revocation by the CLI or another server is such a commit, so
   * a cached answer is never older than the database: the next call after it sees the revocation.
   */
  private readonly verified = new Map<string, ApiKeyIdentity>();
  private verifiedAt = -1;

  constructor(private readonly db: SqliteDatabase) {}

  /** Creates a key and returns it in clear: the only time it is ever seen. */
  create(organizationId: string, mode: ApiKeyMode, options: CreateOptions = {}): Promise<{ key: string; record: ApiKeyRecord }> {
    return promised(() => this.createNow(organizationId, mode, options));
  }

  private createNow(organizationId: string, mode: ApiKeyMode, options: CreateOptions): { key: string; record: ApiKeyRecord } {
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
    this.db
      .prepare(
        `INSERT INTO api_keys (id, organization_id, key_hash, display_prefix, name, mode, scopes, created_at)
         VALUES (@id, @organizationId, @keyHash, @displayPrefix, @name, @mode, @scopes, @createdAt)`,
      )
      .run({ ...record, scopes: record.scopes.join(','), keyHash: hashApiKey(key) });
    return { key, record };
  }

  /** The organization a live (unrevoked) key belongs to, or null. */
  authenticate(key: string): Promise<ApiKeyIdentity | null> {
    return promised(() => this.authenticateNow(key));
  }

  private authenticateNow(key: string): ApiKeyIdentity | null {
    if (!API_KEY_PATTERN.test(key)) return null;
    const hash = hashApiKey(key);
    this.forgetIfChanged();
    const known = this.verified.get(hash);
    if (known !== undefined) return known;
    const row = this.rowByHash(hash);
    if (row === undefined || row.revoked_at !== null) return null;
    // The lookup is by hash, so timing reveals nothing about the key; compare anyway so that
    // correctness never rests on the index alone.
    if (!timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex'))) return null;
    const identity = { organizationId: row.organization_id, keyId: row.id, scopes: scopesOf(row) };
    if (this.verified.size >= MAX_VERIFIED_KEYS) this.verified.clear();
    this.verified.set(hash, identity);
    return identity;
  }

  /**
   * Whether the key with this id, authenticated earlier, is still live (not revoked): what a
   * session that holds an identity checks before each call, without hashing the key again.
   */
  isLive(keyId: string): Promise<boolean> {
    return promised(() => {
      this.forgetIfChanged();
      // A session holds one key, and this store a handful: a scan is all it takes.
      for (const identity of this.verified.values()) if (identity.keyId === keyId) return true;
      const row = this.rowById(keyId);
      return row !== undefined && row.revoked_at === null;
    });
  }

  private forgetIfChanged(): void {
    this.dataVersion ??= this.db.prepare<[], number>('PRAGMA data_version').pluck();
    const version = this.dataVersion.get() ?? -1;
    if (version === this.verifiedAt) return;
    this.verified.clear();
    this.verifiedAt = version;
  }

  private rowByHash(hash: string): ApiKeyRow | undefined {
    this.byHash ??= this.db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = ?');
    return this.byHash.get(hash);
  }

  private rowById(id: string): ApiKeyRow | undefined {
    this.byId ??= this.db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?');
    return this.byId.get(id);
  }

  findByKey(key: string): Promise<ApiKeyRecord | null> {
    return promised(() => {
      const row = this.rowByHash(hashApiKey(key));
      return row === undefined ? null : toRecord(row);
    });
  }

  findById(id: string): Promise<ApiKeyRecord | null> {
    return promised(() => {
      const row = this.rowById(id);
      return row === undefined ? null : toRecord(row);
    });
  }

  listForOrganization(organizationId: string): Promise<ApiKeyRecord[]> {
    return promised(() =>
      this.db
        .prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE organization_id = ? ORDER BY created_at, id')
        .all(organizationId)
        .map(toRecord),
    );
  }

  /** Revokes a key by id. Resolves false when there is no such key or it was already revoked. */
  revoke(id: string, at: string = new Date().toISOString()): Promise<boolean> {
    return promised(() => {
      // data_version does not move for this connection's own commits: forget what was verified.
      this.verified.clear();
      const result = this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
      return result.changes === 1;
    });
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
