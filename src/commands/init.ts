import { createApp } from '../app.js';
import { databaseLocation, type Config } from '../config.js';
import { DEMO_API_KEY, DEMO_OPERATOR, DEMO_ORGANIZATION_ID, seedDemo } from '../demo.js';
import type { Io } from './common.js';

export const INIT_HELP = `Usage: refundkit-mcp init [--demo]

Creates the database at REFUNDKIT_DB_PATH (folders included) or migrates it to the latest schema.

  --demo   also create the demo organization (${DEMO_ORGANIZATION_ID}) with about 20 refunds and
           print its dashboard operator (email and password) on an earlier line and its
           API key alone on the last line of stdout. Safe to run again: nothing is
           created twice.`;

export async function runInit(config: Readonly<Config>, options: { demo: boolean }, io: Io): Promise<void> {
  const app = await createApp(config);
  try {
    io.out(`database ready: ${databaseLocation(config)} (schema version ${await app.stores.schemaVersion()})`);
    if (!options.demo) return;
    const { created } = await seedDemo(app);
    io.out(created ? `demo organization created: ${DEMO_ORGANIZATION_ID}` : `demo organization already present: ${DEMO_ORGANIZATION_ID}`);
    io.out(`demo operator for the dashboard (refundkit-mcp http, then /dashboard): ${DEMO_OPERATOR.email} with password ${DEMO_OPERATOR.password}`);
    const key = await app.apiKeys.findByKey(DEMO_API_KEY);
    if (key?.revokedAt != null) io.err(`warning: the demo API key was revoked at ${key.revokedAt}; it will be refused`);
    io.out(DEMO_API_KEY);
  } finally {
    await app.close();
  }
}
