/**
 * A submission attempt that ended without an answer (a timeout, a reset connection, a 5xx) may
 * still take effect at the processor after we gave up on it. Until `in_doubt_until` has passed,
 * the processor's "I hold no such refund" cannot be trusted, so a cancel must not conclude from it.
 */
export const name = 'in-doubt window after an unanswered submission';

export const sql = `
ALTER TABLE refunds ADD COLUMN in_doubt_until TEXT;
`;
