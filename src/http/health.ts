/**
 * GET /healthz, for a balancer or a supervisor: 200 when the database answers, 503 when not. It
 * takes no key, so it says nothing but ok or unavailable; the cause goes to the log.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../logger.js';
import type { RoutesDirectory } from './routes-directory.js';

export const HEALTH_PATH = '/healthz';

export function registerHealth(app: FastifyInstance, checkHealth: () => unknown, routes: RoutesDirectory, logger: Logger): void {
  app.get(HEALTH_PATH, async (_request, reply) => {
    try {
      await checkHealth();
    } catch (error) {
      logger.error('health check failed', { error });
      return reply.code(503).header('cache-control', 'no-store').send({ status: 'unavailable' });
    }
    return reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });
  routes.add(HEALTH_PATH, ['GET', 'HEAD'], `GET ${HEALTH_PATH}`);
}
