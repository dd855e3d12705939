/**
 * Operators, their sessions, failed sign-ins and operator actions in SQLite. Each method is one
 * statement or one IMMEDIATE transaction.
 */
import type { Operator, OperatorAction, OperatorSession, OperatorStore, NewOperator, NewSession, SignInFailures } from '../../domain/ports.js';
import { failedSignInKey } from '../../domain/operators/rules.js';
import type { SqliteDatabase } from './database.js';
import { promised } from './promised.js';

interface OperatorRow {
  id: string;
  organization_id: string;
  email: string;
  name: string;
  created_at: string;
  disabled_at: string | null;
}

const OPERATOR_COLUMNS = 'o.id, o.organization_id, o.email, o.name, o.created_at, o.disabled_at';

function operatorOf(row: OperatorRow): Operator {
  return { id: row.id, organizationId: row.organization_id, email: row.email, name: row.name, createdAt: row.created_at, disabledAt: row.disabled_at };
}

export class SqliteOperatorStore implements OperatorStore {
  constructor(private readonly db: SqliteDatabase) {}

  createOperator(operator: NewOperator): Promise<Operator> {
    return promised(() => {
      this.db
        .prepare('INSERT INTO operators (id, organization_id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(operator.id, operator.organizationId, operator.email, operator.name, operator.passwordHash, operator.at);
      return { id: operator.id, organizationId: operator.organizationId, email: operator.email, name: operator.name, createdAt: operator.at, disabledAt: null };
    });
  }

  credentials(email: string): Promise<{ operator: Operator; passwordHash: string } | null> {
    return promised(() => {
      const row = this.db
        .prepare<[string], OperatorRow & { password_hash: string }>(`SELECT ${OPERATOR_COLUMNS}, o.password_hash FROM operators o WHERE o.email = ?`)
        .get(email);
      return row === undefined ? null : { operator: operatorOf(row), passwordHash: row.password_hash };
    });
  }

  listOperators(organizationId?: string): Promise<Operator[]> {
    return promised(() => {
      const rows =
        organizationId === undefined
          ? this.db.prepare<[], OperatorRow>(`SELECT ${OPERATOR_COLUMNS} FROM operators o ORDER BY o.created_at, o.id`).all()
          : this.db
              .prepare<[string], OperatorRow>(`SELECT ${OPERATOR_COLUMNS} FROM operators o WHERE o.organization_id = ? ORDER BY o.created_at, o.id`)
              .all(organizationId);
      return rows.map(operatorOf);
    });
  }

  disableOperator(operatorId: string, at: string): Promise<boolean> {
    return promised(() =>
      this.db
        .transaction(() => {
          const changed = this.db.prepare('UPDATE operators SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL').run(at, operatorId).changes;
          if (changed === 1) this.db.prepare('DELETE FROM operator_sessions WHERE operator_id = ?').run(operatorId);
          return changed === 1;
        })
        .immediate(),
    );
  }

  createSession(session: NewSession): Promise<void> {
    return promised(() => {
      this.db
        .prepare('INSERT INTO operator_sessions (id_hash, operator_id, csrf_token, created_at, expires_at, idle_expires_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(session.idHash, session.operatorId, session.csrfToken, session.createdAt, session.expiresAt, session.idleExpiresAt);
    });
  }

  useSession(idHash: string, now: string, idleExpiresAt: string): Promise<OperatorSession | null> {
    return promised(() => {
      const row = this.db
        .prepare<[string, string, string, string], { id: string; csrf_token: string; s_created_at: string; expires_at: string; idle_expires_at: string }>(
          `UPDATE operator_sessions SET idle_expires_at = min(expires_at, ?)
           WHERE id_hash = ? AND expires_at > ? AND idle_expires_at > ?
             AND operator_id IN (SELECT id FROM operators WHERE disabled_at IS NULL)
           RETURNING csrf_token, created_at AS s_created_at, expires_at, idle_expires_at, operator_id AS id`,
        )
        .get(idleExpiresAt, idHash, now, now);
      if (row === undefined) return null;
      const operator = this.db.prepare<[string], OperatorRow>(`SELECT ${OPERATOR_COLUMNS} FROM operators o WHERE o.id = ?`).get(row.id);
      if (operator === undefined) return null;
      return { operator: operatorOf(operator), csrfToken: row.csrf_token, createdAt: row.s_created_at, expiresAt: row.expires_at, idleExpiresAt: row.idle_expires_at };
    });
  }

  deleteSession(idHash: string): Promise<boolean> {
    return promised(() => this.db.prepare('DELETE FROM operator_sessions WHERE id_hash = ?').run(idHash).changes === 1);
  }

  prune(now: string, failuresBefore: string): Promise<number> {
    return promised(() =>
      this.db
        .transaction(() => {
          const sessions = this.db.prepare('DELETE FROM operator_sessions WHERE expires_at <= ? OR idle_expires_at <= ?').run(now, now).changes;
          const failures = this.db.prepare('DELETE FROM sign_in_failures WHERE at < ?').run(failuresBefore).changes;
          return sessions + failures;
        })
        .immediate(),
    );
  }

  recordFailedSignIn(typedEmail: string, typedAddress: string, at: string): Promise<void> {
    const { email, address } = failedSignInKey(typedEmail, typedAddress);
    return promised(() => {
      this.db.prepare('INSERT INTO sign_in_failures (email, address, at) VALUES (?, ?, ?)').run(email, address, at);
    });
  }

  failedSignIns(typedEmail: string, typedAddress: string, since: string): Promise<SignInFailures> {
    const { email, address } = failedSignInKey(typedEmail, typedAddress);
    return promised(() => {
      const count = this.db.prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM sign_in_failures WHERE email = ? AND at >= ?');
      const byAddress = this.db.prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM sign_in_failures WHERE address = ? AND at >= ?');
      return { byEmail: count.get(email, since)?.n ?? 0, byAddress: byAddress.get(address, since)?.n ?? 0 };
    });
  }

  recordAction(action: OperatorAction): Promise<void> {
    return promised(() => {
      this.db
        .prepare('INSERT INTO operator_actions (organization_id, actor, action, subject, at) VALUES (?, ?, ?, ?, ?)')
        .run(action.organizationId, action.actor, action.action, action.subject, action.at);
    });
  }

  listActions(organizationId: string, limit: number): Promise<OperatorAction[]> {
    return promised(() =>
      this.db
        .prepare<[string, number], { organization_id: string; actor: string; action: OperatorAction['action']; subject: string; at: string }>(
          'SELECT organization_id, actor, action, subject, at FROM operator_actions WHERE organization_id = ? ORDER BY seq DESC LIMIT ?',
        )
        .all(organizationId, limit)
        .map((row) => ({ organizationId: row.organization_id, actor: row.actor, action: row.action, subject: row.subject, at: row.at })),
    );
  }
}
