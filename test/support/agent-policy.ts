/**
 * A permissive agent policy for tests that are NOT about the policy.
 *
 * Why: since the guardrails (issue 11), every refund an agent (an MCP caller with an API key)
 * creates or cancels goes through its organization's agent policy. A new organization gets the
 * conservative DEFAULT_AGENT_POLICY (25.00 alone, at most 20 refunds a day per currency, cancels
 * of its own refunds only) and the demo DEMO_AGENT_POLICY (10 refunds a day). Tests written about
 * something else (races, crashes, transports, tenancy, Stripe faults) drive far more agent
 * refunds than that, in any currency, and cancel refunds other keys created. They keep their
 * assertions and have their organization's operator set this policy first, the way an operator
 * would (`refundkit-mcp policy set`, or the guardrail store for in-process tests). The product's
 * defaults stay as they are; tests of the policy itself set the policy they test.
 *
 * What it cannot lift: a refund on a transaction whose charge the processor cannot read (a fault
 * on the charge read, a refused Stripe key) still waits for a person's approval. That is a rule,
 * not a limit.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentPolicy, CurrencyLimits } from '../../src/domain/guardrails/policy.js';
import type { GuardrailStore } from '../../src/domain/ports.js';
import { REFUND_REASONS } from '../../src/domain/refund.js';
import { runCli, type Env, type TestHome } from './cli.js';

/** As high as the policy schema allows: no test is held or refused by a limit. */
const UNLIMITED: CurrencyLimits = { maxPerRefund: 99_999_999, approvalAbove: 99_999_999, dailyCount: 100_000, dailyAmount: 99_999_999 };

/** Every currency the tests refund in is listed: an unlisted one would wait for approval. */
export const PERMISSIVE_AGENT_POLICY: AgentPolicy = {
  currencies: { usd: UNLIMITED, eur: UNLIMITED, gbp: UNLIMITED, jpy: UNLIMITED },
  reasons: REFUND_REASONS,
  cancelOthers: true,
  confirmWrites: false,
  approvalHours: 72,
};

/**
 * Sets PERMISSIVE_AGENT_POLICY on an organization of a built-program test's database, through
 * `refundkit-mcp policy set --file`, as an operator would. Call it before starting the servers
 * (a running server reads the policy at each call, but the intent is clearer before).
 */
export async function permitAgents(home: TestHome, organizationId: string, extra: Env = {}): Promise<void> {
  const file = join(home.dir, `permissive-policy-${organizationId}.json`);
  writeFileSync(file, JSON.stringify(PERMISSIVE_AGENT_POLICY));
  const result = await runCli(['policy', 'set', '--org', organizationId, '--as', 'test-operator', '--file', file], home.env(extra));
  if (result.code !== 0) throw new Error(`policy set failed (${result.code}): ${result.stderr}`);
}

/** The same, for in-process tests: straight into the app's guardrail store. */
export async function permitAgentsInProcess(guardrails: GuardrailStore, organizationId: string): Promise<void> {
  await guardrails.setPolicy(organizationId, PERMISSIVE_AGENT_POLICY, 'operator:test-operator', new Date().toISOString());
}
