/**
 * In-band confirmation over MCP: the domain's Confirmation capability, built on form-mode
 * elicitation. A client that declared `elicitation` (form mode; an empty object means form) gets
 * the capability; one that did not gets none, and the domain then holds the refund for approval or
 * refuses the cancel. The question rides on the tool call it belongs to (relatedRequestId), so it
 * reaches the client over stdio and over the call's Streamable HTTP stream alike.
 */
import type { ConfirmationAnswer, Confirmation } from '../domain/guardrails/confirmation.js';
import type { Logger } from '../logger.js';
import type { ElicitResult, RequestId, Server } from './sdk.js';

/**
 * How long the person has to answer. Under the 60 s most clients give a tool call, so that an
 * answer never lands after the agent was told the call timed out.
 */
export const CONFIRM_TIMEOUT_MS = 55_000;

/** The smallest form that asks: one boolean, which the person must set to go ahead. */
export const CONFIRM_SCHEMA = {
  type: 'object',
  properties: {
    confirm: { type: 'boolean', title: 'Go ahead', description: 'Check to let the agent do this; leave unchecked or decline to stop it.', default: false },
  },
  required: ['confirm'],
} as const;

/** Accepted only with confirm set to true: an accepted form with it unchecked is a no. */
export function answerOf(result: ElicitResult): ConfirmationAnswer {
  if (result.action === 'accept') return result.content?.confirm === true ? 'accepted' : 'declined';
  return result.action === 'decline' ? 'declined' : 'cancelled';
}

/** The capability for one tool call, or undefined when the client cannot show a form. */
export function elicitationConfirmation(
  server: Server,
  relatedRequestId: RequestId,
  logger: Logger,
  timeoutMs = CONFIRM_TIMEOUT_MS,
): Confirmation | undefined {
  if (server.getClientCapabilities()?.elicitation?.form === undefined) return undefined;
  return {
    async ask(request) {
      try {
        const result = await server.elicitInput(
          { mode: 'form', message: request.message, requestedSchema: { ...CONFIRM_SCHEMA, properties: { ...CONFIRM_SCHEMA.properties }, required: [...CONFIRM_SCHEMA.required] } },
          { relatedRequestId, timeout: timeoutMs },
        );
        const answer = answerOf(result);
        logger.debug('confirmation answered', { action: request.action, answer });
        return answer;
      } catch (error) {
        // A timeout, a dropped connection, an answer that does not fit the form: nobody said yes.
        logger.debug('confirmation not answered', { action: request.action, error });
        return 'unanswered';
      }
    },
  };
}
