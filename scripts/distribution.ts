/**
 * The parts of manifest.json (the MCP bundle) and server.json (the MCP registry) that the code
 * already knows: the version, and the bundle's tool list from the operation table. `npm run docs`
 * rewrites them; test/distribution/files.test.ts fails when a file no longer holds them.
 */
import { allOperations } from '../src/operations/index.js';
import { VERSION } from '../src/version.js';

/** A tool's first sentence: the manifest lists tools for people browsing a directory. */
function firstSentence(text: string): string {
  const end = text.indexOf('. ');
  return end === -1 ? text : text.slice(0, end + 1);
}

export function manifestTools(): { name: string; description: string }[] {
  return allOperations.map((operation) => ({ name: operation.name, description: firstSentence(operation.description) }));
}

const asText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

export function regenerateManifest(text: string): string {
  const manifest = JSON.parse(text) as Record<string, unknown>;
  return asText({ ...manifest, version: VERSION, tools: manifestTools() });
}

export function regenerateServerJson(text: string): string {
  const server = JSON.parse(text) as { packages?: Record<string, unknown>[] } & Record<string, unknown>;
  return asText({ ...server, version: VERSION, packages: (server.packages ?? []).map((entry) => ({ ...entry, version: VERSION })) });
}

/** File → the function that brings it up to date. */
export const DISTRIBUTION_FILES: Readonly<Record<string, (text: string) => string>> = {
  'manifest.json': regenerateManifest,
  'server.json': regenerateServerJson,
};
