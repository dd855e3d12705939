/**
 * The SQLite adapters answer through the asynchronous store ports, but better-sqlite3 is
 * synchronous: each method does its work (one transaction) at once and hands the outcome back
 * as a promise, so that a throw becomes a rejection like any other database's fault.
 */
export function promised<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(work());
  });
}
