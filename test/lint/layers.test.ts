import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Linter } from 'eslint';
import { describe, expect, it } from 'vitest';
import layers, { LAYERS, layerOf } from '../../eslint/layers.js';

const root = path.resolve(import.meta.dirname, '../..');

/** Lints one line of source as if it were the file at `file` (relative to the repository). */
function lint(file: string, code: string): string[] {
  const linter = new Linter({ cwd: root });
  const messages = linter.verify(
    code,
    [{ files: ['**/*.ts', '**/*.js'], plugins: { layers }, rules: { 'layers/layers': 'error' }, languageOptions: { sourceType: 'module' } }],
    path.join(root, file),
  );
  return messages.map((m) => m.message);
}

describe('the layer rule', () => {
  it('places every file of src/ in a layer', () => {
    // readdirSync's recursive option, not fs.globSync: that one needs Node 22.
    const files = readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') || f.endsWith('.tsx'))
      .map((f) => f.split(path.sep).join('/'));
    expect(files.length).toBeGreaterThan(20);
    expect(files.filter((f) => layerOf(f) === undefined)).toEqual([]);
  });

  it('refuses the domain importing an adapter or a driver, and says why', () => {
    expect(lint('src/domain/queries.ts', "import { x } from '../http/server.js';")).toEqual([
      `domain may not import http (../http/server.js): ${LAYERS.domain!.why}`,
    ]);
    expect(lint('src/domain/queries.ts', "import Database from 'better-sqlite3';")).toHaveLength(1);
    expect(lint('src/domain/queries.ts', "const m = import('stripe');")).toHaveLength(1);
    expect(lint('src/domain/queries.ts', "export * from '../store/sqlite/refund-store.js';")).toHaveLength(1);
  });

  it('refuses HTTP reaching a store implementation, and operations reaching an adapter', () => {
    expect(lint('src/http/rest.ts', "import { SqliteRefundStore } from '../store/sqlite/refund-store.js';")).toHaveLength(1);
    expect(lint('src/operations/get-refund.ts', "import { x } from '../mcp/sdk.js';")).toHaveLength(1);
  });

  it('allows what the layers table allows', () => {
    expect(lint('src/domain/queries.ts', "import { z } from 'zod'; import { randomUUID } from 'node:crypto'; import { e } from './errors.js';")).toEqual([]);
    expect(lint('src/http/rest.ts', "import { allOperations } from '../operations/index.js'; import Fastify from 'fastify';")).toEqual([]);
    expect(lint('src/commands/http.ts', "import { SqliteRefundStore } from '../store/sqlite/refund-store.js';")).toEqual([]);
  });
});
