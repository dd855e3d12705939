/**
 * The tables of the docs that the code already knows: tools, HTTP routes, environment variables, error codes.
 * `npm run docs` writes them between `<!-- generated:NAME:begin -->` and `<!-- generated:NAME:end -->`
 * markers; test/docs.test.ts fails when a file no longer holds what these functions render.
 */
import { shownDefault, VARIABLES, type VariableGroup, type VariableSpec } from '../src/config-variables.js';
import { ERROR_CODES, type ErrorCode } from '../src/domain/errors.js';
import { HTTP_STATUS, RETRY_AFTER_SECONDS } from '../src/http/errors.js';
import { routeTable } from '../src/http/route-table.js';
import { allOperations } from '../src/operations/index.js';

/** Which generated blocks each file holds. */
export const GENERATED_FILES: Readonly<Record<string, readonly string[]>> = {
  'README.md': ['tools'],
  'docs/tools.md': ['tools'],
  'docs/configuration.md': ['env-general', 'env-stripe', 'env-http'],
  'docs/errors.md': ['errors'],
  'docs/http.md': ['routes'],
};

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

export function toolsTable(): string {
  return table(
    ['Tool', 'Title', 'readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint', 'Offered in read-only mode'],
    allOperations.map((operation) => {
      const hints = operation.annotations;
      return [
        `\`${operation.name}\``,
        operation.title,
        String(hints.readOnlyHint),
        String(hints.destructiveHint),
        String(hints.idempotentHint),
        String(hints.openWorldHint),
        yesNo(hints.readOnlyHint),
      ];
    }),
  );
}

export function environmentTable(group: VariableGroup): string {
  const specs: [string, VariableSpec][] = Object.entries(VARIABLES);
  return table(
    ['Variable', 'Default', 'Effect'],
    specs.filter(([, spec]) => spec.group === group).map(([name, spec]) => [`\`${name}\``, shownDefault(spec), spec.effect]),
  );
}

export function errorsTable(): string {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];
  return table(
    ['Code', 'HTTP status', 'Retryable', 'Meaning, and what an agent should do'],
    codes.map((code) => {
      const retryAfter = RETRY_AFTER_SECONDS[code];
      const status = retryAfter === undefined ? String(HTTP_STATUS[code]) : `${HTTP_STATUS[code]} (\`Retry-After: ${retryAfter}\`)`;
      return [`\`${code}\``, status, yesNo(ERROR_CODES[code].retryable), ERROR_CODES[code].summary];
    }),
  );
}

export function routesTable(): string {
  return table(
    ['Method and path', 'Auth', 'MCP tool', 'What it does'],
    routeTable(allOperations).map((route) => [
      `\`${route.methods.join(', ')} ${route.path}\``,
      route.auth,
      route.tool === null ? '–' : `\`${route.tool}\``,
      route.summary,
    ]),
  );
}

export function render(block: string): string {
  switch (block) {
    case 'tools':
      return toolsTable();
    case 'env-general':
      return environmentTable('general');
    case 'env-stripe':
      return environmentTable('stripe');
    case 'env-http':
      return environmentTable('http');
    case 'errors':
      return errorsTable();
    case 'routes':
      return routesTable();
    default:
      throw new Error(`no generated block named '${block}'`);
  }
}

/** The file's text with every generated block rendered anew; throws when a marker is missing. */
export function regenerate(text: string, blocks: readonly string[]): string {
  let out = text;
  for (const block of blocks) {
    const begin = `<!-- generated:${block}:begin -->`;
    const end = `<!-- generated:${block}:end -->`;
    const from = out.indexOf(begin);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`markers ${begin} … ${end} are missing`);
    out = `${out.slice(0, from + begin.length)}\n${render(block)}\n${out.slice(to)}`;
  }
  return out;
}
