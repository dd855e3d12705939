/**
 * The shape of one MCP tool: its contract (schemas, annotations, text for the model) and a
 * handler that calls one service method. Registration, validation and error mapping are done
 * once for all tools in server.ts.
 */
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { Caller, RefundService } from '../domain/refund-service.js';

export interface ToolContext {
  service: RefundService;
  caller: Caller;
}

export interface ToolDefinition<
  In extends z.ZodObject = z.ZodObject,
  Out extends z.ZodObject = z.ZodObject,
> {
  name: string;
  title: string;
  /** Written for a model: what it does, when to use it, units, what comes back, what to call next. */
  description: string;
  inputSchema: In;
  outputSchema: Out;
  annotations: ToolAnnotations;
  /** Write tools are left unregistered in read-only mode. */
  writes: boolean;
  handler(input: z.output<In>, context: ToolContext): Promise<z.input<Out>> | z.input<Out>;
  /**
   * A sentence for the model beside the result, when the result alone could be misread (a refund
   * still pending after create_refund). Sent as a second text block; the structured result and
   * its schema are unchanged.
   */
  note?(output: z.input<Out>): string | undefined;
}

/** Keeps each tool's handler typed against its own schemas while the list holds them all. */
export function defineTool<In extends z.ZodObject, Out extends z.ZodObject>(
  definition: ToolDefinition<In, Out>,
): ToolDefinition {
  return definition;
}
