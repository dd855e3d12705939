// @ts-check
/**
 * Bundles the program's entry, dist/cli.js (the `bin` that MCP clients spawn), after tsc has
 * checked and emitted everything. An MCP server is started for every conversation, and loading
 * the SDK, zod and our modules as some 250 separate ES modules was most of the start-up time:
 * one bundle starts in about two thirds of the time of a minimal MCP server loaded the usual way
 * (see the README's Benchmark section). The rest of dist/ stays as tsc wrote it.
 *
 * Kept out of the bundle: better-sqlite3 (a native addon, resolved at run time) and stripe
 * (imported on first use only, so a server that never calls Stripe never loads it), and pg (loaded
 * only when REFUNDKIT_DATABASE_URL names a PostgreSQL database).
 */
import { rmSync } from 'node:fs';

// Chunk names carry a content hash: drop the previous build's before writing this one's.
rmSync('dist/chunks', { recursive: true, force: true });

/** @type {import('rolldown').RolldownOptions} */
export default {
  input: 'src/cli.ts',
  platform: 'node',
  external: [/^better-sqlite3(\/|$)/, /^stripe(\/|$)/, /^pg(\/|$)/],
  output: {
    dir: 'dist',
    format: 'esm',
    entryFileNames: 'cli.js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    sourcemap: true,
  },
};
