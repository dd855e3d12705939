import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { DEFAULT_AGENT_POLICY } from '../domain/guardrails/policy.js';
import { CommandError, type Io } from './common.js';

export const ORGS_HELP = `Usage:
  refundkit-mcp orgs create --name NAME   create an organization; prints its id alone on the last line
  refundkit-mcp orgs list                 list organizations (id, created, name)`;

export async function runOrgsCreate(config: Readonly<Config>, name: string, io: Io): Promise<void> {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) throw new CommandError('--name must be 1 to 200 characters');
  const app = await createApp(config);
  try {
    const organization = await app.organizations.create(trimmed);
    // Written out, so that the policy it started with stays its own if the default changes later.
    await app.guardrails.setPolicy(organization.id, DEFAULT_AGENT_POLICY, 'system', organization.createdAt);
    io.out(organization.id);
  } finally {
    await app.close();
  }
}

export async function runOrgsList(config: Readonly<Config>, io: Io): Promise<void> {
  const app = await createApp(config);
  try {
    for (const org of await app.organizations.list()) io.out(`${org.id}\t${org.createdAt}\t${org.name}`);
  } finally {
    await app.close();
  }
}
