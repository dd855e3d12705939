/**
 * vitest globalSetup: the PostgreSQL server the PostgreSQL suites run against. CI (.ci/run) starts
 * one with scripts/test-postgres.sh and exports REFUNDKIT_TEST_DATABASE_URL; without it, a local
 * run starts its own with the same script when the server binaries are installed, and stops it at
 * the end. Otherwise the suites learn why there is none (test/support/postgres.ts decides: skip
 * locally, fail under CI).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ROOT } from './cli.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** An URL of a role that may create databases; null when there is no server. */
    postgresUrl: string | null;
    /** Why there is no server, for the skip or failure message. */
    postgresMissing: string;
  }
}

const SCRIPT = join(ROOT, 'scripts', 'test-postgres.sh');

export default function setup(project: TestProject): (() => void) | undefined {
  const given = process.env.REFUNDKIT_TEST_DATABASE_URL;
  if (given !== undefined && given !== '') {
    project.provide('postgresUrl', given);
    project.provide('postgresMissing', '');
    return undefined;
  }
  const started = spawnSync(SCRIPT, ['start'], { encoding: 'utf8', timeout: 60_000 });
  if (started.status !== 0) {
    const why = (started.stderr || started.error?.message || `exit ${String(started.status)}`).trim();
    project.provide('postgresUrl', null);
    project.provide('postgresMissing', `REFUNDKIT_TEST_DATABASE_URL is unset and no test server could be started (${why})`);
    return undefined;
  }
  const [folder = '', url = ''] = started.stdout.trim().split('\n');
  project.provide('postgresUrl', url);
  project.provide('postgresMissing', '');
  return () => {
    spawnSync(SCRIPT, ['stop', folder], { encoding: 'utf8', timeout: 60_000 });
  };
}
