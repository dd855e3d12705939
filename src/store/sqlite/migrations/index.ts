/**
 * Numbered migrations, applied in order at open and recorded in schema_migrations. Append new
 * ones; never edit one that has shipped.
 */
import * as initial from './001-initial.js';
import * as submission from './002-submission.js';
import * as webhookEvents from './003-webhook-events.js';
import * as inDoubt from './004-in-doubt.js';
import * as discrepancies from './005-discrepancies.js';
import * as guardrails from './006-guardrails.js';
import * as policyRefusals from './007-policy-refusals.js';
import * as operators from './008-operators.js';
import * as keyNames from './009-key-names.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: initial.name, sql: initial.sql },
  { version: 2, name: submission.name, sql: submission.sql },
  { version: 3, name: webhookEvents.name, sql: webhookEvents.sql },
  { version: 4, name: inDoubt.name, sql: inDoubt.sql },
  { version: 5, name: discrepancies.name, sql: discrepancies.sql },
  { version: 6, name: guardrails.name, sql: guardrails.sql },
  { version: 7, name: policyRefusals.name, sql: policyRefusals.sql },
  { version: 8, name: operators.name, sql: operators.sql },
  { version: 9, name: keyNames.name, sql: keyNames.sql },
];
