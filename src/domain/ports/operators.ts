/**
 * The operator store port: the people who sign in to the dashboard, their sessions, the failed
 * sign-ins that rate-limit guessing, and the log of what operators changed outside a refund's own
 * audit trail (API keys). Kept apart from the other ports so that another database can add it on
 * its own; like them, every method is one atomic operation.
 */

export interface Operator {
  id: string;
  organizationId: string;
  /** Lowercase; unique across the database, as it is what an operator signs in with. */
  email: string;
  name: string;
  createdAt: string;
  disabledAt: string | null;
}

export interface NewOperator {
  id: string;
  organizationId: string;
  email: string;
  name: string;
  /** The scrypt hash with its salt and parameters (password.ts), never the password. */
  passwordHash: string;
  at: string;
}

/** A session as it is written: only a hash of its id is kept, so a leaked table opens nothing. */
export interface NewSession {
  idHash: string;
  operatorId: string;
  csrfToken: string;
  createdAt: string;
  /** Absolute expiry: the session ends then however busy it was. */
  expiresAt: string;
  /** Idle expiry, moved forward on each use (never past expiresAt). */
  idleExpiresAt: string;
}

export interface OperatorSession {
  operator: Operator;
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
  idleExpiresAt: string;
}

export interface SignInFailures {
  byEmail: number;
  byAddress: number;
}

/** Something an operator changed that no refund's audit trail holds (an API key made or revoked). */
export interface OperatorAction {
  organizationId: string;
  /** operator:EMAIL */
  actor: string;
  action: 'key_created' | 'key_revoked';
  subject: string;
  at: string;
}

export interface OperatorStore {
  /** Rejects a duplicate email (any organization) or an unknown organization. */
  createOperator(operator: NewOperator): Promise<Operator>;
  /** The operator with this email and its password hash (enabled or not), or null. */
  credentials(email: string): Promise<{ operator: Operator; passwordHash: string } | null>;
  /** Oldest first; of one organization, or of all. */
  listOperators(organizationId?: string): Promise<Operator[]>;
  /** Disables an operator and ends its sessions, atomically. False when unknown or already disabled. */
  disableOperator(operatorId: string, at: string): Promise<boolean>;
  createSession(session: NewSession): Promise<void>;
  /**
   * The live session with this id hash (not past either expiry, its operator enabled), with its
   * idle expiry moved to `idleExpiresAt` (capped at the absolute expiry); null otherwise.
   */
  useSession(idHash: string, now: string, idleExpiresAt: string): Promise<OperatorSession | null>;
  /** Ends a session (sign-out). Resolves whether one was there. */
  deleteSession(idHash: string): Promise<boolean>;
  /** Forgets sessions past an expiry and failures older than `failuresBefore`. */
  prune(now: string, failuresBefore: string): Promise<number>;
  recordFailedSignIn(email: string, address: string, at: string): Promise<void>;
  /** Failed sign-ins since `since`, for this email (any address) and from this address (any email). */
  failedSignIns(email: string, address: string, since: string): Promise<SignInFailures>;
  recordAction(action: OperatorAction): Promise<void>;
  /** Newest first. */
  listActions(organizationId: string, limit: number): Promise<OperatorAction[]>;
}
