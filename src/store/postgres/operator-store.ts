/**
 * Operators, their sessions, failed sign-ins and operator actions in PostgreSQL. Each method is
 * one statement, or one transaction where two tables change together (disabling an operator ends
 * their sessions in the same commit, so no process can use one in between).
 */
import type { Operator, OperatorAction, OperatorSession, OperatorStore, NewOperator, NewSession, SignInFailures } from '../../domain/ports.js';
import { failedSignInKey } from '../../domain/operators/rules.js';
import { inTransaction, type PgPool } from './database.js';

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

export class PostgresOperatorStore implements OperatorStore {
  constructor(private readonly pool: PgPool) {}

  async createOperator(operator: NewOperator): Promise<Operator> {
    await this.pool.query('INSERT INTO operators (id, organization_id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      operator.id,
      operator.organizationId,
      operator.email,
      operator.name,
      operator.passwordHash,
      operator.at,
    ]);
    return { id: operator.id, organizationId: operator.organizationId, email: operator.email, name: operator.name, createdAt: operator.at, disabledAt: null };
  }

  async credentials(email: string): Promise<{ operator: Operator; passwordHash: string } | null> {
    const { rows } = await this.pool.query<OperatorRow & { password_hash: string }>(
      `SELECT ${OPERATOR_COLUMNS}, o.password_hash FROM operators o WHERE o.email = $1`,
      [email],
    );
    const row = rows[0];
    return row === undefined ? null : { operator: operatorOf(row), passwordHash: row.password_hash };
  }

  async listOperators(organizationId?: string): Promise<Operator[]> {
    const { rows } =
      organizationId === undefined
        ? await this.pool.query<OperatorRow>(`SELECT ${OPERATOR_COLUMNS} FROM operators o ORDER BY o.created_at, o.id`)
        : await this.pool.query<OperatorRow>(`SELECT ${OPERATOR_COLUMNS} FROM operators o WHERE o.organization_id = $1 ORDER BY o.created_at, o.id`, [
            organizationId,
          ]);
    return rows.map(operatorOf);
  }

  disableOperator(operatorId: string, at: string): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const changed = await client.query('UPDATE operators SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL', [at, operatorId]);
      if (changed.rowCount !== 1) return false;
      await client.query('DELETE FROM operator_sessions WHERE operator_id = $1', [operatorId]);
      return true;
    });
  }

  async createSession(session: NewSession): Promise<void> {
    await this.pool.query(
      'INSERT INTO operator_sessions (id_hash, operator_id, csrf_token, created_at, expires_at, idle_expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [session.idHash, session.operatorId, session.csrfToken, session.createdAt, session.expiresAt, session.idleExpiresAt],
    );
  }

  async useSession(idHash: string, now: string, idleExpiresAt: string): Promise<OperatorSession | null> {
    // One statement: the session is touched only if it is alive and its operator enabled, and the
    // operator comes back from the same snapshot.
    const { rows } = await this.pool.query<OperatorRow & { csrf_token: string; s_created_at: string; expires_at: string; idle_expires_at: string }>(
      `WITH touched AS (
         UPDATE operator_sessions s SET idle_expires_at = LEAST(s.expires_at, $1)
         WHERE s.id_hash = $2 AND s.expires_at > $3 AND s.idle_expires_at > $3
           AND s.operator_id IN (SELECT id FROM operators WHERE disabled_at IS NULL)
         RETURNING s.operator_id, s.csrf_token, s.created_at AS s_created_at, s.expires_at, s.idle_expires_at
       )
       SELECT ${OPERATOR_COLUMNS}, t.csrf_token, t.s_created_at, t.expires_at, t.idle_expires_at
       FROM touched t JOIN operators o ON o.id = t.operator_id`,
      [idleExpiresAt, idHash, now],
    );
    const row = rows[0];
    if (row === undefined) return null;
    return { operator: operatorOf(row), csrfToken: row.csrf_token, createdAt: row.s_created_at, expiresAt: row.expires_at, idleExpiresAt: row.idle_expires_at };
  }

  async deleteSession(idHash: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM operator_sessions WHERE id_hash = $1', [idHash]);
    return rowCount === 1;
  }

  prune(now: string, failuresBefore: string): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      const sessions = await client.query('DELETE FROM operator_sessions WHERE expires_at <= $1 OR idle_expires_at <= $1', [now]);
      const failures = await client.query('DELETE FROM sign_in_failures WHERE at < $1', [failuresBefore]);
      return (sessions.rowCount ?? 0) + (failures.rowCount ?? 0);
    });
  }

  async recordFailedSignIn(typedEmail: string, typedAddress: string, at: string): Promise<void> {
    const { email, address } = failedSignInKey(typedEmail, typedAddress);
    await this.pool.query('INSERT INTO sign_in_failures (email, address, at) VALUES ($1, $2, $3)', [email, address, at]);
  }

  async failedSignIns(typedEmail: string, typedAddress: string, since: string): Promise<SignInFailures> {
    const { email, address } = failedSignInKey(typedEmail, typedAddress);
    const { rows } = await this.pool.query<{ by_email: string; by_address: string }>(
      `SELECT (SELECT count(*) FROM sign_in_failures WHERE email = $1 AND at >= $3) AS by_email,
              (SELECT count(*) FROM sign_in_failures WHERE address = $2 AND at >= $3) AS by_address`,
      [email, address, since],
    );
    const row = rows[0];
    return { byEmail: Number(row?.by_email ?? 0), byAddress: Number(row?.by_address ?? 0) };
  }

  async recordAction(action: OperatorAction): Promise<void> {
    await this.pool.query('INSERT INTO operator_actions (organization_id, actor, action, subject, at) VALUES ($1, $2, $3, $4, $5)', [
      action.organizationId,
      action.actor,
      action.action,
      action.subject,
      action.at,
    ]);
  }

  async listActions(organizationId: string, limit: number): Promise<OperatorAction[]> {
    const { rows } = await this.pool.query<{ organization_id: string; actor: string; action: OperatorAction['action']; subject: string; at: string }>(
      'SELECT organization_id, actor, action, subject, at FROM operator_actions WHERE organization_id = $1 ORDER BY seq DESC LIMIT $2',
      [organizationId, limit],
    );
    return rows.map((row) => ({ organizationId: row.organization_id, actor: row.actor, action: row.action, subject: row.subject, at: row.at }));
  }
}
