/**
 * `npm run docs`: rewrites the generated tables of the README and docs/ from the code, and the
 * version and tools of manifest.json and server.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_FILES, regenerate } from './doc-tables.js';
import { DISTRIBUTION_FILES } from './distribution.js';

const root = process.cwd();
for (const [file, blocks] of Object.entries(GENERATED_FILES)) {
  const path = join(root, file);
  const before = readFileSync(path, 'utf8');
  const after = regenerate(before, blocks);
  if (after !== before) {
    writeFileSync(path, after);
    console.log(`updated ${file}`);
  }
}
for (const [file, update] of Object.entries(DISTRIBUTION_FILES)) {
  const path = join(root, file);
  const before = readFileSync(path, 'utf8');
  const after = update(before);
  if (after !== before) {
    writeFileSync(path, after);
    console.log(`updated ${file}`);
  }
}
