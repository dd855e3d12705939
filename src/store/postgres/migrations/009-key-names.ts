/**
 * API keys get a name (SQLite's 009): NULL for the keys made before, which readers show by their
 * id and prefix; 1 to 100 characters, no surrounding spaces, no control characters.
 */
import { TEXT } from './text.js';

export const name = 'api key names';

export const sql = `
ALTER TABLE api_keys ADD COLUMN name ${TEXT} CHECK (
  length(name) BETWEEN 1 AND 100
  AND name = trim(name)
  AND name !~ '[[:cntrl:]]'
);
`;
