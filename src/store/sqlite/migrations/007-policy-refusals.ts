/**
 * The agent writes the policy refused before anything was created: a refund above a limit, over a
 * budget, with a reason not allowed, or one the person at the client declined. With no refund to
 * hang an event on, they are kept here, append-only, so that every policy decision is on record.
 */
export const name = 'policy refusals';

export const sql = `
CREATE TABLE policy_refusals (
  seq              INTEGER PRIMARY KEY,
  organization_id  TEXT NOT NULL REFERENCES organizations(id),
  key_id           TEXT NOT NULL REFERENCES api_keys(id),
  at               TEXT NOT NULL,
  outcome          TEXT NOT NULL CHECK (outcome IN ('denied', 'not_confirmed')),
  rule             TEXT NOT NULL CHECK (length(rule) BETWEEN 1 AND 40),
  message          TEXT NOT NULL CHECK (length(message) BETWEEN 1 AND 1000),
  transaction_id   TEXT NOT NULL CHECK (length(transaction_id) BETWEEN 1 AND 255),
  amount           INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount > 0),
  currency         TEXT NOT NULL CHECK (length(currency) = 3),
  reason           TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500)
);
CREATE INDEX policy_refusals_by_org ON policy_refusals (organization_id, seq DESC);
CREATE TRIGGER policy_refusals_no_update BEFORE UPDATE ON policy_refusals
  BEGIN SELECT RAISE(ABORT, 'policy_refusals is append-only'); END;
CREATE TRIGGER policy_refusals_no_delete BEFORE DELETE ON policy_refusals
  BEGIN SELECT RAISE(ABORT, 'policy_refusals is append-only'); END;
`;
