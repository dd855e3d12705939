/** The in-doubt window after an unanswered submission (SQLite's 004). */
import { TEXT } from './text.js';

export const name = 'in-doubt window after an unanswered submission';

export const sql = `
ALTER TABLE refunds ADD COLUMN in_doubt_until ${TEXT};
`;
