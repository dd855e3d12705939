/**
 * Pages leave as HTML rendered by preact-render-to-string, which escapes every text and attribute
 * value it is given: no page builds markup out of strings.
 */
import type { FastifyReply } from 'fastify';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { SECURITY_HEADERS } from './security.js';

export function sendPage(reply: FastifyReply, status: number, page: VNode): FastifyReply {
  return reply
    .code(status)
    .headers(SECURITY_HEADERS)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>${renderToString(page)}`);
}

/** After a form post: 303, so that a reload does not post again. */
export function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).headers(SECURITY_HEADERS).header('location', location).send();
}
