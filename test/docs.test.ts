import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_FILES, regenerate } from '../scripts/doc-tables.js';
import { VARIABLES } from '../src/config-variables.js';
import { loadConfig } from '../src/config.js';

const root = join(import.meta.dirname, '..');

describe('generated docs', () => {
  for (const [file, blocks] of Object.entries(GENERATED_FILES)) {
    it(`${file} holds the tables the code knows (run npm run docs after a change)`, () => {
      const text = readFileSync(join(root, file), 'utf8');
      expect(regenerate(text, blocks)).toBe(text);
    });
  }

  it('documents exactly the environment variables loadConfig reads', () => {
    const read = new Set<string>();
    const env = new Proxy<Record<string, string | undefined>>(
      {},
      {
        get: (_target, name) => {
          if (typeof name === 'string') read.add(name);
          return undefined;
        },
      },
    );
    loadConfig(env);
    read.delete('HOME'); // only to find the default database path
    expect([...read].sort()).toEqual(Object.keys(VARIABLES).sort());
  });
});
