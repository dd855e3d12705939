/**
 * API keys get a name (the dashboard's approvals inbox shows who asked). Keys made before this
 * step keep NULL: the migration cannot know what they are for, and a name it invented (the id)
 * would pass for one an operator chose; readers show an unnamed key by its id and prefix.
 * The CHECK is the rule of src/domain/key-name.ts: 1 to 100 characters, no surrounding spaces,
 * no control characters (a tab or newline would break `keys list`'s columns).
 */
export const name = 'api key names';

export const sql = `
ALTER TABLE api_keys ADD COLUMN name TEXT CHECK (
  length(name) BETWEEN 1 AND 100
  AND name = trim(name)
  AND name NOT GLOB ('*[' || char(1) || '-' || char(31) || char(127) || ']*')
);
`;
