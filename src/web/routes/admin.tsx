import { RefundKitError } from '../../domain/errors.js';
import { agentPolicySchema, parseAgentPolicy } from '../../domain/guardrails/policy.js';
import { parseScopes } from '../../domain/guardrails/scopes.js';
import { parseKeyName } from '../../domain/key-name.js';
import { parseInput } from '../../domain/schemas.js';
import { KeysPage } from '../pages/keys.js';
import { PolicyPage } from '../pages/policy.js';
import { sendPage } from '../render.js';
import type { DashboardRoute, RouteContext } from './route.js';
import type { ApiKeyRecord } from '../../domain/ports.js';

const KEY_ID = /^key_[a-z0-9]{12}$/;
const POLICY_MAX_CHARS = 20_000;

async function policyPage(ctx: RouteContext, status: number, draft?: string, notice?: { kind: 'ok' | 'error'; text: string }) {
  const view = await ctx.deps.service.policy(ctx.signed.organizationId);
  return sendPage(
    ctx.reply,
    status,
    <PolicyPage
      viewer={ctx.signed.viewer}
      view={view}
      draft={draft ?? JSON.stringify(view.policy, null, 2)}
      {...(notice === undefined ? {} : { notice })}
    />,
  );
}

async function keysPage(ctx: RouteContext, status: number, extra: { created?: { key: string; record: ApiKeyRecord }; notice?: { kind: 'ok' | 'error'; text: string } } = {}) {
  const keys = await ctx.deps.apiKeys.listForOrganization(ctx.signed.organizationId);
  return sendPage(ctx.reply, status, <KeysPage viewer={ctx.signed.viewer} keys={keys} {...extra} />);
}

export const ADMIN_ROUTES: readonly DashboardRoute[] = [
  { method: 'GET', path: '/policy', summary: "The organization's agent policy", handle: (ctx) => policyPage(ctx, 200) },
  {
    method: 'POST',
    path: '/policy',
    summary: 'Replace the agent policy (`policy`: the whole policy as JSON); recorded as `operator:EMAIL`',
    handle: async (ctx) => {
      const text = ctx.form.get('policy') ?? '';
      if (text.length > POLICY_MAX_CHARS) return policyPage(ctx, 400, text.slice(0, POLICY_MAX_CHARS), { kind: 'error', text: `The policy must be at most ${POLICY_MAX_CHARS} characters` });
      let input: unknown;
      try {
        input = JSON.parse(text);
      } catch {
        return policyPage(ctx, 400, text, { kind: 'error', text: 'The policy is not valid JSON; nothing was changed' });
      }
      try {
        const policy = parseAgentPolicy(parseInput(agentPolicySchema, input));
        await ctx.deps.service.setPolicy(ctx.signed.organizationId, policy, ctx.signed.label);
        return await policyPage(ctx, 200, undefined, { kind: 'ok', text: 'Policy saved.' });
      } catch (error) {
        if (error instanceof RefundKitError && error.code === 'validation_error') {
          return policyPage(ctx, 400, text, { kind: 'error', text: `${error.message}; nothing was changed` });
        }
        throw error;
      }
    },
  },
  { method: 'GET', path: '/keys', summary: "The organization's API keys", handle: (ctx) => keysPage(ctx, 200) },
  {
    method: 'POST',
    path: '/keys',
    summary: 'Create a key (`name`, `scopes`, `mode`); the key is shown once, in this response only',
    handle: async (ctx) => {
      const mode = ctx.form.get('mode') ?? 'live';
      if (mode !== 'live' && mode !== 'test') return keysPage(ctx, 400, { notice: { kind: 'error', text: 'Mode must be live or test' } });
      const scopes = parseScopes(ctx.form.getAll('scopes').join(','));
      if (!scopes.ok) return keysPage(ctx, 400, { notice: { kind: 'error', text: scopes.message } });
      const name = parseKeyName(ctx.form.get('name') ?? '');
      if (!name.ok) return keysPage(ctx, 400, { notice: { kind: 'error', text: `${name.message}; no key was created` } });
      const created = await ctx.deps.apiKeys.create(ctx.signed.organizationId, mode, { name: name.name, scopes: scopes.scopes });
      await ctx.deps.actions.recordAction({
        organizationId: ctx.signed.organizationId,
        actor: ctx.signed.label,
        action: 'key_created',
        subject: created.record.id,
        at: ctx.deps.clock.now().toISOString(),
      });
      return keysPage(ctx, 201, { created });
    },
  },
  {
    method: 'POST',
    path: '/keys/:keyId/revoke',
    summary: 'Revoke a key of the organization',
    handle: async (ctx) => {
      const keyId = ctx.params.keyId ?? '';
      const record = KEY_ID.test(keyId) ? await ctx.deps.apiKeys.findById(keyId) : null;
      // Another organization's key does not exist for this operator.
      if (record === null || record.organizationId !== ctx.signed.organizationId) return keysPage(ctx, 404, { notice: { kind: 'error', text: `No key ${keyId}` } });
      if (!(await ctx.deps.apiKeys.revoke(record.id))) return keysPage(ctx, 409, { notice: { kind: 'error', text: `Key ${record.id} was already revoked` } });
      await ctx.deps.actions.recordAction({
        organizationId: ctx.signed.organizationId,
        actor: ctx.signed.label,
        action: 'key_revoked',
        subject: record.id,
        at: ctx.deps.clock.now().toISOString(),
      });
      return keysPage(ctx, 200, { notice: { kind: 'ok', text: `Revoked ${record.id}; requests with it are refused from now on.` } });
    },
  },
];
