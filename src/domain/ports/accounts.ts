/**
 * Organizations and their API keys: who a caller is. The HTTP and stdio adapters authenticate
 * through these ports, the CLI manages them; nothing here knows a database.
 */
import type { Scope } from '../guardrails/scopes.js';

export interface Organization {
  id: string;
  name: string;
  createdAt: string;
}

export interface OrganizationStore {
  /** Creates an organization (a new id unless `options.id` is given). */
  create(name: string, options?: { id?: string; at?: string }): Promise<Organization>;
  findById(id: string): Promise<Organization | null>;
  /** Oldest first. */
  list(): Promise<Organization[]>;
}

export type ApiKeyMode = 'live' | 'test';

/** A key as it is kept: never the key itself, only a short prefix to recognise it by. */
export interface ApiKeyRecord {
  id: string;
  organizationId: string;
  displayPrefix: string;
  /** What operators call it (see domain/key-name.ts); null for a key made before keys had names. */
  name: string | null;
  mode: ApiKeyMode;
  /** What the key may do, in the canonical order (keys made before scopes: read, write). */
  scopes: Scope[];
  createdAt: string;
  revokedAt: string | null;
}

/** Who a live key speaks for. */
export interface ApiKeyIdentity {
  organizationId: string;
  keyId: string;
  scopes: Scope[];
}

export interface ApiKeyStore {
  /** Creates a key and returns it in clear: the only time it is ever seen. */
  /**
   * Without `options.scopes` the key gets DEFAULT_KEY_SCOPES (read, write). `options.name` is
   * kept as given: a name that breaks the rule of domain/key-name.ts is refused (rejects), and
   * the CLI and the dashboard, which people use, always give one.
   */
  create(
    organizationId: string,
    mode: ApiKeyMode,
    options?: { secret?: string; at?: string; scopes?: readonly Scope[]; name?: string },
  ): Promise<{ key: string; record: ApiKeyRecord }>;
  /** The organization a live (unrevoked) key belongs to, or null for an unknown or revoked one. */
  authenticate(key: string): Promise<ApiKeyIdentity | null>;
  /**
   * Whether the key with this id, authenticated earlier, is still live (not revoked): what a
   * session that holds an identity checks before each call, without hashing the key again.
   */
  isLive(keyId: string): Promise<boolean>;
  findByKey(key: string): Promise<ApiKeyRecord | null>;
  findById(id: string): Promise<ApiKeyRecord | null>;
  /** Oldest first. */
  listForOrganization(organizationId: string): Promise<ApiKeyRecord[]>;
  /** Revokes a key by id. Resolves false when there is no such key or it was already revoked. */
  revoke(id: string, at?: string): Promise<boolean>;
}
