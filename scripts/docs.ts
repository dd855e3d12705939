/** `npm run docs`: rewrites the generated tables of the README and docs/ from the code. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_FILES, regenerate } from './doc-tables.js';

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
