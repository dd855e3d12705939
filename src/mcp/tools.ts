/**
 * The MCP tools, built from the operation table: each operation is a tool with the same name,
 * text, schemas and annotations. Read-only mode offers the operations marked `readOnlyHint`.
 *
 * The JSON Schemas are computed once per process, the way the SDK's McpServer computes them
 * (zod's own converter, draft-07, the input side of the input schema and the output side of the
 * output schema), so tools/list answers what it always has.
 */
import { z } from 'zod';
import type { Scope } from '../domain/guardrails/scopes.js';
import { allOperations } from '../operations/index.js';
import type { Operation } from '../operations/operation.js';
import type { Tool } from './sdk.js';

export interface McpTool {
  operation: Operation;
  /** The tool as tools/list shows it. */
  definition: Tool;
}

function definitionOf(operation: Operation): Tool {
  // Key order as McpServer wrote it, so that the wire stays as it was.
  return {
    name: operation.name,
    title: operation.title,
    description: operation.description,
    inputSchema: jsonSchemaOf(operation.input, 'input'),
    annotations: { title: operation.title, ...operation.annotations },
    // No tool runs as an MCP task: each answers within its call.
    execution: { taskSupport: 'forbidden' },
    outputSchema: jsonSchemaOf(operation.output, 'output'),
  };
}

function jsonSchemaOf(schema: z.ZodObject, io: 'input' | 'output'): Tool['inputSchema'] {
  const json: unknown = z.toJSONSchema(schema, { target: 'draft-7', io });
  if (!isObjectSchema(json)) throw new Error('an operation schema must convert to a JSON Schema of type object');
  return json;
}

/** A zod object converts to `{"type": "object", "properties": {…}, …}`, which a tool's schema must be. */
function isObjectSchema(json: unknown): json is Tool['inputSchema'] {
  return typeof json === 'object' && json !== null && 'type' in json && json.type === 'object';
}

let built: readonly McpTool[] | undefined;

function allTools(): readonly McpTool[] {
  built ??= allOperations.map((operation) => ({ operation, definition: definitionOf(operation) }));
  return built;
}

/**
 * The tools one server offers, in the table's order: in read-only mode those with readOnlyHint;
 * with `scopes` (the session key's), only those whose scope the key has.
 */
export function toolsFor(readOnly: boolean, scopes?: readonly Scope[]): readonly McpTool[] {
  return allTools().filter(
    (tool) => (!readOnly || tool.operation.annotations.readOnlyHint) && (scopes === undefined || scopes.includes(tool.operation.scope)),
  );
}
