/**
 * Background work in parallel, within a limit: how a pass drains a backlog several at a time.
 */

/**
 * Runs `work` for every item with at most `limit` in flight, and resolves once all have settled.
 * Every item gets its turn even when one fails; the first failure is thrown at the end.
 */
export async function eachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await work(item);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failures.length > 0) throw failures[0];
}
