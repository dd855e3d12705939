/**
 * Every text column is `COLLATE "C"`: ids and ISO times compare and sort byte by byte, as SQLite
 * compares them, whatever locale the database was created with (a locale's collation may ignore
 * punctuation, and `created_at < $1` or the list order would then differ between the adapters).
 */
export const TEXT = 'text COLLATE "C"';

/** The refund statuses, as the CHECKs list them (mirrors src/domain/refund.ts). */
export const STATUSES = "('pending', 'processing', 'completed', 'failed', 'cancelled')";
