/** The agent writes the policy refused before anything was created, append-only (SQLite's 007). */
import { TEXT } from './text.js';

export const name = 'policy refusals';

export const sql = `
CREATE TABLE policy_refusals (
  seq              bigserial PRIMARY KEY,
  organization_id  ${TEXT} NOT NULL REFERENCES organizations(id),
  key_id           ${TEXT} NOT NULL REFERENCES api_keys(id),
  at               ${TEXT} NOT NULL,
  outcome          ${TEXT} NOT NULL CHECK (outcome IN ('denied', 'not_confirmed')),
  rule             ${TEXT} NOT NULL CHECK (length(rule) BETWEEN 1 AND 40),
  message          ${TEXT} NOT NULL CHECK (length(message) BETWEEN 1 AND 1000),
  transaction_id   ${TEXT} NOT NULL CHECK (length(transaction_id) BETWEEN 1 AND 255),
  amount           bigint NOT NULL CHECK (amount > 0),
  currency         ${TEXT} NOT NULL CHECK (length(currency) = 3),
  reason           ${TEXT} NOT NULL CHECK (length(reason) BETWEEN 1 AND 500)
);
CREATE INDEX policy_refusals_by_org ON policy_refusals (organization_id, seq DESC);
CREATE TRIGGER policy_refusals_append_only BEFORE UPDATE OR DELETE ON policy_refusals
  FOR EACH ROW EXECUTE FUNCTION refuse_append_only();
CREATE TRIGGER policy_refusals_no_truncate BEFORE TRUNCATE ON policy_refusals
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only();
`;
