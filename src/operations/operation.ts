/**
 * One operation of the refund domain, defined once: its name and text for a model, its input and
 * output schemas, its annotations, where it sits in the REST API, and the use case it runs. The
 * MCP tool list and the REST routes are both built from the table of these, so adding an
 * operation is adding one file (plus its tests) and one line in the table.
 *
 * Nothing here knows MCP, HTTP or a framework: the adapters read these fields.
 */
import type { z } from 'zod';
import type { Scope } from '../domain/guardrails/scopes.js';
import type { Caller, RefundService } from '../domain/refund-service.js';

/** The MCP tool annotations, all four stated: clients and read-only mode rely on them. */
export interface OperationAnnotations {
  /** True: changes nothing. Read-only mode offers exactly the operations with this set. */
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  /** True: reaches a system outside ours (the payment processor). */
  openWorldHint: boolean;
}

/** What an operation's use case is given: the domain, and who is acting as the adapter decided. */
export interface OperationContext {
  service: RefundService;
  caller: Caller;
}

/** The parts of a REST request an operation may read, already split by the HTTP adapter. */
export interface RestRequestParts {
  /** Path parameters by name, percent-decoded (`:refundId` in the path gives `params.refundId`). */
  params: Readonly<Record<string, string>>;
  /**
   * Query parameters by name, each given at most once. The adapter refuses names the binding
   * does not list in `query`, and repeated names, before `input` runs.
   */
  query: Readonly<Record<string, string>>;
  /** The parsed JSON body, or undefined when the request had none. */
  body: unknown;
  /** Request headers, lower-cased names; a repeated header is joined with ', '. */
  headers: Readonly<Record<string, string | undefined>>;
}

/** Where an operation sits in the REST API and how a request maps onto its input. */
export interface RestBinding<Out, In = unknown> {
  method: 'GET' | 'POST' | 'DELETE';
  /** What the route does, for the routes table of docs/http.md (written for a developer). */
  summary: string;
  /** Path with `:name` parameters, e.g. `/v1/refunds/:refundId/cancel`. */
  path: string;
  /** The query parameters the route takes (none when omitted). */
  query?: readonly string[];
  /**
   * Builds the operation's raw input from the request; the operation's input schema validates
   * the result, so this only moves fields (and refuses what has no place, e.g. a body on a GET).
   */
  input(request: RestRequestParts): unknown;
  /** The `data` of the response body (`{"data": …}`), from the operation's output. */
  data(output: Out): unknown;
  /**
   * The use case REST runs, when it is not the operation's `run` (GET /v1/refunds/:id answers
   * from the database, as documented, while get_refund first reads a processing refund from its
   * processor). The adapter runs `rest.run ?? run`.
   */
  run?(input: In, context: OperationContext): Promise<Out>;
}

export interface Operation<In extends z.ZodObject = z.ZodObject, Out extends z.ZodObject = z.ZodObject> {
  /** The MCP tool name (snake_case). */
  name: string;
  title: string;
  /** Written for a model: what it does, when to use it, units, what comes back, what to call next. */
  description: string;
  input: In;
  output: Out;
  annotations: OperationAnnotations;
  /**
   * The scope an API key needs to call it: an MCP session lists only the tools its key may call,
   * and REST refuses the route with 403 forbidden.
   */
  scope: Extract<Scope, 'read' | 'write'>;
  /** Null for an operation the REST API does not offer. */
  rest: RestBinding<z.input<Out>, z.output<In>> | null;
  /** The use case: one call into the domain. Validation and error mapping are the adapters'. */
  run(input: z.output<In>, context: OperationContext): Promise<z.input<Out>>;
  /**
   * A sentence for the model beside the result, when the result alone could be misread (a refund
   * still pending after create_refund). The MCP tool sends it as a second text block; the
   * structured result and its schema are unchanged, and REST answers the data alone. Given the
   * call's context (the MCP tool gives it), it may look something up first and answer a promise.
   */
  note?(output: z.input<Out>, context?: OperationContext): string | undefined | Promise<string | undefined>;
}

/** Keeps each operation typed against its own schemas while the table holds them all. */
export function defineOperation<In extends z.ZodObject, Out extends z.ZodObject>(operation: Operation<In, Out>): Operation {
  return operation;
}
