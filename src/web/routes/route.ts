import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardDeps, Signed } from '../context.js';

export interface RouteContext {
  request: FastifyRequest;
  reply: FastifyReply;
  deps: DashboardDeps;
  signed: Signed;
  /** A form post's fields (CSRF already checked); empty for a GET. */
  form: URLSearchParams;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
}

/** A page or form of a signed-in operator. Every POST passes the CSRF check before `handle`. */
export interface DashboardRoute {
  method: 'GET' | 'POST';
  /** Under /dashboard. */
  path: string;
  summary: string;
  handle(ctx: RouteContext): Promise<FastifyReply>;
}

export function queryOf(request: FastifyRequest): URLSearchParams {
  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
}
