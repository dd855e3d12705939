/**
 * What the SQLite refund adapters share: statements prepared once and kept, and the audit event
 * every change of a refund appends inside its transaction (masked on the way in).
 */
import type { Statement } from 'better-sqlite3';
import type { Actor } from '../../domain/refund.js';
import { redact } from '../../redact.js';
import type { SqliteDatabase } from './database.js';
import { APPEND_EVENT } from './refund-sql.js';

export class SqliteStatements {
  private readonly statements = new Map<string, Statement>();

  constructor(protected readonly db: SqliteDatabase) {}

  /** Prepared once per SQL text (or `key`, for SQL built per call), and kept. */
  protected statement(sql: string | (() => string), raw = false, key = typeof sql === 'string' ? sql : ''): Statement {
    let statement = this.statements.get(key);
    if (statement === undefined) {
      statement = this.db.prepare(typeof sql === 'string' ? sql : sql());
      if (raw) statement.raw(true);
      this.statements.set(key, statement);
    }
    return statement;
  }

  protected appendEvent(
    refundId: string,
    organizationId: string,
    from: string | null,
    to: string,
    initiatedBy: Actor,
    createdAt: string,
    detail: string | null,
  ): void {
    this.statement(APPEND_EVENT).run({ refundId, organizationId, from, to, initiatedBy, createdAt, detail: detail === null ? null : redact(detail) });
  }
}
