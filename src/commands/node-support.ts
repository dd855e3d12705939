/**
 * The Node.js releases this build runs on (package.json `engines` says the same). Node 24.19 and
 * later changed `node::ObjectWrap` so that better-sqlite3 12 aborts the process when a statement is
 * freed ("Assertion failed: (env) != nullptr"); better-sqlite3 13 fixes it but needs Node 22, and
 * we still support Node 20. npm only warns about `engines`, so the program says it too, once, on
 * stderr (stdout belongs to the MCP protocol), before anything touches the database.
 */
export function unsupportedNodeWarning(version: string): string | undefined {
  const match = /^v?(\d+)\.(\d+)\./.exec(version);
  if (match === null) return undefined;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major === 24 && minor >= 19) {
    return `Node.js ${version} aborts under better-sqlite3 12 (the SQLite driver) at random moments; run this server on Node.js 22, or 24 up to 24.18 (docs/distribution.md)`;
  }
  if (major > 24 || major === 21 || major === 23 || major < 20) {
    return `Node.js ${version} is not a supported release; use Node.js 20, 22 or 24 up to 24.18 (docs/distribution.md)`;
  }
  return undefined;
}
