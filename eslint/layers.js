// @ts-check
// The layers of src/, and which layer may import which. ESLint runs this rule on every file in src/,
// so an import that crosses a layer the wrong way fails `npm run lint` (and CI) with the reason.
// docs/architecture.md draws the same table.
import path from 'node:path';

/**
 * Each layer: the folders or files it holds (relative to src/), the layers it may import, and the
 * packages it may import (node: built-ins are always allowed except where `nodeBuiltins` is false).
 * @type {Record<string, { holds: string[], mayImport: string[], packages: RegExp[], why: string }>}
 */
export const LAYERS = {
  domain: {
    holds: ['domain/'],
    mayImport: ['domain'],
    packages: [/^zod$/],
    why: 'the domain knows refunds, not transports, drivers or SDKs',
  },
  operations: {
    holds: ['operations/'],
    mayImport: ['operations', 'domain'],
    packages: [/^zod$/],
    why: 'an operation is defined once, for every adapter; it cannot depend on one of them',
  },
  mcp: {
    holds: ['mcp/'],
    mayImport: ['mcp', 'operations', 'domain', 'shared'],
    packages: [/^@modelcontextprotocol\/sdk(\/|$)/, /^zod$/],
    why: 'the MCP adapter serves operations; it does not reach into HTTP, stores or processors',
  },
  http: {
    holds: ['http/'],
    mayImport: ['http', 'web', 'mcp', 'operations', 'domain', 'shared'],
    packages: [/^fastify$/, /^@fastify\//, /^zod$/],
    why: 'the HTTP adapter depends on ports, not on a store or processor implementation',
  },
  web: {
    holds: ['web/'],
    mayImport: ['web', 'operations', 'domain', 'shared'],
    packages: [/^fastify$/, /^zod$/, /^preact(\/|$)/, /^preact-render-to-string$/],
    why: 'the dashboard is an adapter: it calls the domain through its ports and never SQL',
  },
  store: {
    holds: ['store/'],
    mayImport: ['store', 'domain', 'shared'],
    packages: [/^better-sqlite3$/, /^pg$/],
    why: 'a store adapter implements the domain ports and nothing else',
  },
  processors: {
    holds: ['processors/'],
    mayImport: ['processors', 'domain', 'shared'],
    packages: [/^stripe$/],
    why: 'a processor adapter implements the processor port and nothing else',
  },
  shared: {
    holds: ['config.ts', 'config-variables.ts', 'logger.ts', 'redact.ts', 'version.ts'],
    mayImport: ['shared', 'domain'],
    packages: [],
    why: 'configuration, logging and masking are used by every adapter and depend on none',
  },
  composition: {
    holds: ['commands/', 'app.ts', 'background.ts', 'cli.ts', 'demo.ts'],
    mayImport: ['composition', 'domain', 'operations', 'mcp', 'http', 'store', 'processors', 'shared'],
    packages: [/.*/],
    why: 'the composition root wires adapters to the domain',
  },
};

/** @param {string} relative path relative to src/, with forward slashes */
export function layerOf(relative) {
  for (const [name, layer] of Object.entries(LAYERS)) {
    if (layer.holds.some((h) => (h.endsWith('/') ? relative.startsWith(h) : relative === h))) return name;
  }
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'keep the layers of src/ honest (see docs/architecture.md)' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const srcRoot = path.join(context.cwd, 'src') + path.sep;
    if (!file.startsWith(srcRoot)) return {};
    const here = file.slice(srcRoot.length).split(path.sep).join('/');
    const from = layerOf(here);
    /** @param {import('estree').Node} node @param {unknown} source */
    function check(node, source) {
      if (typeof source !== 'string') return;
      if (from === undefined) {
        context.report({ node, message: `src/${here} belongs to no layer: add it to eslint/layers.js` });
        return;
      }
      const layer = LAYERS[from];
      if (source.startsWith('.')) {
        const target = path.relative(srcRoot, path.resolve(path.dirname(file), source)).split(path.sep).join('/');
        const to = layerOf(target.replace(/\.js$/, '.ts')) ?? layerOf(target.replace(/\.js$/, '.tsx'));
        if (to === undefined || !layer.mayImport.includes(to)) {
          context.report({ node, message: `${from} may not import ${to ?? target} (${source}): ${layer.why}` });
        }
        return;
      }
      if (source.startsWith('node:')) return;
      if (!layer.packages.some((p) => p.test(source))) {
        context.report({ node, message: `${from} may not import the package ${source}: ${layer.why}` });
      }
    }
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

export default { rules: { layers: rule } };
