/**
 * The dashboard's operators, their sessions (only a hash of each session id), failed sign-ins
 * (the rate limit every process shares) and the append-only log of operator changes (SQLite's 008).
 */
import { TEXT } from './text.js';

export const name = 'operators, sessions, sign-in failures, operator actions';

export const sql = `
CREATE TABLE operators (
  id               ${TEXT} PRIMARY KEY CHECK (id ~ '^op_[a-z0-9]{12}$'),
  organization_id  ${TEXT} NOT NULL REFERENCES organizations(id),
  email            ${TEXT} NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
  name             ${TEXT} NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- scrypt$N$r$p$salt$hash: never the password.
  password_hash    ${TEXT} NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
  created_at       ${TEXT} NOT NULL,
  disabled_at      ${TEXT}
);
CREATE INDEX operators_by_org ON operators (organization_id, created_at);

CREATE TABLE operator_sessions (
  -- SHA-256 of the session id the browser holds.
  id_hash          ${TEXT} PRIMARY KEY CHECK (length(id_hash) = 64),
  operator_id      ${TEXT} NOT NULL REFERENCES operators(id),
  csrf_token       ${TEXT} NOT NULL CHECK (length(csrf_token) >= 32),
  created_at       ${TEXT} NOT NULL,
  expires_at       ${TEXT} NOT NULL,
  idle_expires_at  ${TEXT} NOT NULL
);
CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);

CREATE TABLE sign_in_failures (
  seq      bigserial PRIMARY KEY,
  email    ${TEXT} NOT NULL CHECK (length(email) <= 254),
  address  ${TEXT} NOT NULL CHECK (length(address) <= 64),
  at       ${TEXT} NOT NULL
);
CREATE INDEX sign_in_failures_by_email ON sign_in_failures (email, at);
CREATE INDEX sign_in_failures_by_address ON sign_in_failures (address, at);

CREATE TABLE operator_actions (
  seq              bigserial PRIMARY KEY,
  organization_id  ${TEXT} NOT NULL REFERENCES organizations(id),
  actor            ${TEXT} NOT NULL CHECK (length(actor) BETWEEN 1 AND 300),
  action           ${TEXT} NOT NULL CHECK (action IN ('key_created', 'key_revoked')),
  subject          ${TEXT} NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
  at               ${TEXT} NOT NULL
);
CREATE INDEX operator_actions_by_org ON operator_actions (organization_id, seq DESC);
CREATE TRIGGER operator_actions_append_only BEFORE UPDATE OR DELETE ON operator_actions
  FOR EACH ROW EXECUTE FUNCTION refuse_append_only();
CREATE TRIGGER operator_actions_no_truncate BEFORE TRUNCATE ON operator_actions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only();
`;
