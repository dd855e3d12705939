/** The configuration of the `http` command and of Stripe webhooks (src/config.ts). */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Env } from '../src/config.js';

const HOME = '/home/tester';

function refusal(env: Env): string {
  try {
    loadConfig({ HOME, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('http settings', () => {
  it('default to this machine only, port 3000, 256 KiB bodies, no extra host names, no webhook secret', () => {
    const config = loadConfig({ HOME });
    expect(config.http).toEqual({
      host: '127.0.0.1',
      port: 3000,
      maxBodyBytes: 262_144,
      allowedHosts: [],
      mcpMaxSessions: 1_000,
      mcpMaxSessionsPerOrg: 200,
      mcpMaxSessionsPerKey: 100,
      mcpSessionIdleSeconds: 1_800,
      mcpStateless: false,
    });
    expect(config.stripe.webhookSecret).toBeUndefined();
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(Object.isFrozen(config.http.allowedHosts)).toBe(true);
  });

  it('take the environment', () => {
    const config = loadConfig({
      HOME,
      REFUNDKIT_HTTP_HOST: '0.0.0.0',
      REFUNDKIT_HTTP_PORT: '8080',
      REFUNDKIT_HTTP_MAX_BODY_BYTES: '1048576',
      REFUNDKIT_HTTP_ALLOWED_HOSTS: ' Refunds.Example.com , localhost:8080,[::1]:9000 ',
      REFUNDKIT_MCP_MAX_SESSIONS: '50',
      REFUNDKIT_MCP_MAX_SESSIONS_PER_ORG: '20',
      REFUNDKIT_MCP_MAX_SESSIONS_PER_KEY: '5',
      REFUNDKIT_MCP_SESSION_IDLE_SECONDS: '60',
      REFUNDKIT_MCP_STATELESS: 'yes',
      STRIPE_WEBHOOK_SECRET: 'whsec_abcdefABCDEF0123456789',
    });
    expect(config.http).toEqual({
      host: '0.0.0.0',
      port: 8080,
      maxBodyBytes: 1_048_576,
      allowedHosts: ['refunds.example.com', 'localhost:8080', '[::1]:9000'],
      mcpMaxSessions: 50,
      mcpMaxSessionsPerOrg: 20,
      mcpMaxSessionsPerKey: 5,
      mcpSessionIdleSeconds: 60,
      mcpStateless: true,
    });
    expect(config.stripe.webhookSecret).toBe('whsec_abcdefABCDEF0123456789');
    expect(loadConfig({ HOME, REFUNDKIT_HTTP_PORT: '0' }).http.port).toBe(0);
  });

  it.each([
    [{ REFUNDKIT_HTTP_PORT: 'http' }, 'REFUNDKIT_HTTP_PORT must be an integer from 0 to 65535'],
    [{ REFUNDKIT_HTTP_PORT: '65536' }, 'REFUNDKIT_HTTP_PORT must be an integer from 0 to 65535'],
    [{ REFUNDKIT_HTTP_PORT: '80.5' }, 'REFUNDKIT_HTTP_PORT must be an integer from 0 to 65535'],
    [{ REFUNDKIT_HTTP_MAX_BODY_BYTES: '10' }, 'REFUNDKIT_HTTP_MAX_BODY_BYTES must be an integer from 1024'],
    [{ REFUNDKIT_HTTP_ALLOWED_HOSTS: 'a b' }, 'REFUNDKIT_HTTP_ALLOWED_HOSTS must be a comma-separated list'],
    [{ REFUNDKIT_HTTP_ALLOWED_HOSTS: 'example.com/path' }, 'REFUNDKIT_HTTP_ALLOWED_HOSTS must be a comma-separated list'],
    [{ REFUNDKIT_HTTP_ALLOWED_HOSTS: 'user@example.com' }, 'REFUNDKIT_HTTP_ALLOWED_HOSTS must be a comma-separated list'],
    [{ REFUNDKIT_HTTP_ALLOWED_HOSTS: 'a.example,,b.example' }, 'REFUNDKIT_HTTP_ALLOWED_HOSTS must be a comma-separated list'],
    [{ REFUNDKIT_MCP_MAX_SESSIONS: '0' }, 'REFUNDKIT_MCP_MAX_SESSIONS must be an integer from 1 to 100000'],
    [{ REFUNDKIT_MCP_MAX_SESSIONS_PER_ORG: 'lots' }, 'REFUNDKIT_MCP_MAX_SESSIONS_PER_ORG must be an integer from 1 to 100000'],
    [{ REFUNDKIT_MCP_MAX_SESSIONS_PER_KEY: '2.5' }, 'REFUNDKIT_MCP_MAX_SESSIONS_PER_KEY must be an integer from 1 to 100000'],
    [{ REFUNDKIT_MCP_SESSION_IDLE_SECONDS: '0' }, 'REFUNDKIT_MCP_SESSION_IDLE_SECONDS must be an integer from 1 to 86400'],
  ])('refuses %j with a message saying what is expected', (env, message) => {
    expect(refusal(env)).toContain(message);
  });

  it('give requests in flight 10 s on shutdown unless REFUNDKIT_HTTP_SHUTDOWN_GRACE_SECONDS says otherwise', () => {
    expect(loadConfig({ HOME }).httpShutdownGraceSeconds).toBe(10);
    expect(loadConfig({ HOME, REFUNDKIT_HTTP_SHUTDOWN_GRACE_SECONDS: '0' }).httpShutdownGraceSeconds).toBe(0);
    expect(loadConfig({ HOME, REFUNDKIT_HTTP_SHUTDOWN_GRACE_SECONDS: '2.5' }).httpShutdownGraceSeconds).toBe(2.5);
    expect(refusal({ REFUNDKIT_HTTP_SHUTDOWN_GRACE_SECONDS: 'soon' })).toContain('REFUNDKIT_HTTP_SHUTDOWN_GRACE_SECONDS must be a number from 0 to 3600');
    expect(refusal({ REFUNDKIT_HTTP_SHUTDOWN_GRACE_SECONDS: '3601' })).toContain('REFUNDKIT_HTTP_SHUTDOWN_GRACE_SECONDS must be a number from 0 to 3600');
  });

  it('refuses a webhook secret that is not one, without echoing it', () => {
    const message = refusal({ STRIPE_WEBHOOK_SECRET: 'sk_live_notTheRightSecret123' });
    expect(message).toContain('STRIPE_WEBHOOK_SECRET must be');
    expect(message).toContain('whsec_');
    expect(message).not.toContain('notTheRightSecret');
  });
});
