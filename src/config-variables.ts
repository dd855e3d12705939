/**
 * Every environment variable the program reads, with its default and what it does: the one home
 * of both. src/config.ts reads and validates them; `npm run docs` writes the tables of
 * docs/configuration.md from this list, and a test fails when the two drift apart.
 */

/** The range a numeric variable must fall in. */
export interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
}

export type VariableGroup = 'general' | 'stripe' | 'http';

export interface VariableSpec {
  /** Which table of docs/configuration.md lists it. */
  group: VariableGroup;
  /** The value used when the variable is unset or blank (numeric variables). */
  default?: number;
  rule?: NumberRule;
  /** How the default reads in the docs, where it is not simply `default`. */
  shown?: string;
  /** What it does, for the docs (Markdown). */
  effect: string;
}

export const VARIABLES = {
  REFUNDKIT_DB_PATH: {
    group: 'general',
    shown: "`~/.refundkit/refundkit.db` (`$HOME/.refundkit/refundkit.db`)",
    effect: "The SQLite file. It is created with its parent folders on first use, and migrated to the latest schema on every open. A relative path resolves against the working directory.",
  },
  REFUNDKIT_API_KEY: {
    group: 'general',
    shown: "unset",
    effect: "The key the stdio server acts with: it sees only that key's organization. The stdio server needs it. A missing, unknown or revoked key stops it at start with one line on stderr and exit code 1. The operator commands (`init`, `orgs`, `keys`) ignore it.",
  },
  REFUNDKIT_READ_ONLY: {
    group: 'general',
    shown: "`0`",
    effect: "`1`, `true` or `yes` leaves every write tool (`create_refund`, `cancel_refund`) unregistered, so the agent can only read. The server then writes nothing to the database: it runs no background loop, `get_refund` answers the stored status without asking the processor, and `dispatch` refuses to run. SQLite enforces this, because the server reads through a read-only connection. The one exception is start-up: the server still migrates an older schema, since that is set-up, not data, and an upgrade must not depend on which process starts first. `0`, `false`, `no` or empty means off. Any other value is an error.",
  },
  REFUNDKIT_LOG_LEVEL: {
    group: 'general',
    shown: "`info`",
    effect: "`debug`, `info`, `warn`, `error` or `silent`. Logs go to stderr only. `debug` adds a line per tool call.",
  },
  REFUNDKIT_PROCESSOR: {
    group: 'general',
    shown: "`stripe` if `STRIPE_SECRET_KEY` is set, else `sandbox`",
    effect: "The processor new refunds go to: `stripe` or `sandbox`. `stripe` without a key is an error at start.",
  },
  REFUNDKIT_HOLD_SECONDS: {
    group: 'general',
    default: 0,
    rule: { min: 0, max: 30 * 86_400 },
    effect: "Review window between creating a refund and submitting it. `0` submits inside the `create_refund` call. During the window a `cancel_refund` stops it before the processor sees it. Decimals allowed, up to 30 days.",
  },
  REFUNDKIT_DISPATCH_INTERVAL_SECONDS: {
    group: 'general',
    default: 5,
    rule: { min: 0, max: 3_600 },
    effect: "How often each serving process runs its background pass (submit due refunds, retry after outages, read back statuses). `0` turns the loop off; run `refundkit-mcp dispatch` from cron instead.",
  },
  REFUNDKIT_DISPATCH_CONCURRENCY: {
    group: 'general',
    default: 4,
    rule: { min: 1, max: 32, integer: true },
    effect: "How many submissions, or status reads, one background pass (or `dispatch` run) has in flight at once (1–32). Claims keep each refund to one submitter whatever it is; it sets how fast a backlog after an outage, or a long list of processing refunds, is worked through. Stripe's rate limits (100 requests/s live, 25 in test mode) leave room for the default.",
  },
  REFUNDKIT_REFRESH_AFTER_SECONDS: {
    group: 'general',
    default: 10,
    rule: { min: 0, max: 86_400 },
    effect: "`get_refund` reads a `processing` refund's status from its processor first when this server has not read it for this long (one try, at most 2 s; on failure the stored status is answered). `0` turns it off: statuses then come only from the background read and webhooks.",
  },
  REFUNDKIT_SYNC_INTERVAL_SECONDS: {
    group: 'general',
    default: 60,
    rule: { min: 1, max: 86_400 },
    effect: "How often a `processing` refund's status is read back from its processor.",
  },
  REFUNDKIT_RETRY_BASE_SECONDS: {
    group: 'general',
    default: 5,
    rule: { min: 0.01, max: 3_600 },
    effect: "First retry delay after a processor outage during submission; it triples per attempt, up to 15 minutes.",
  },
  STRIPE_SECRET_KEY: {
    group: 'stripe',
    shown: "unset",
    effect: "The Stripe secret or restricted key (`sk_test_…`, `sk_live_…`, `rk_…`). Turns on the `stripe` processor (and makes it the default). A malformed value is refused at start, and the error never echoes it. Without it, cancelling a processing `stripe` refund answers `processor_not_configured` and changes nothing. Pending `stripe` refunds, and their status reads, are left untouched for a process that has the key. The `stripe` package is loaded on first use, not at start.",
  },
  STRIPE_API_BASE: {
    group: 'stripe',
    shown: "Stripe's own",
    effect: "Another base URL for the Stripe API, e.g. `http://127.0.0.1:12111`: how the tests point the real `stripe` package at a local Stripe imitation.",
  },
  STRIPE_TIMEOUT_MS: {
    group: 'stripe',
    default: 20_000,
    rule: { min: 100, max: 600_000, integer: true },
    effect: "Timeout of one Stripe request. Twice this is how long a refund stays in doubt after an unanswered submission (a cancel waits it out).",
  },
  STRIPE_MAX_NETWORK_RETRIES: {
    group: 'stripe',
    default: 2,
    rule: { min: 0, max: 10, integer: true },
    effect: "Retries the `stripe` package makes itself on network errors, 409 and 5xx (same idempotency key). A 429 is left to the background retry.",
  },
  REFUNDKIT_HTTP_HOST: {
    group: 'http',
    shown: "`127.0.0.1`",
    effect: "Interface `http` listens on (`--host` overrides). `0.0.0.0` for every interface.",
  },
  REFUNDKIT_HTTP_PORT: {
    group: 'http',
    default: 3_000,
    rule: { min: 0, max: 65_535, integer: true },
    effect: "Port `http` listens on (`--port` overrides); `0` picks a free one.",
  },
  REFUNDKIT_HTTP_MAX_BODY_BYTES: {
    group: 'http',
    default: 262_144,
    rule: { min: 1_024, max: 16_777_216, integer: true },
    shown: "`262144` (256 KiB)",
    effect: "Largest request body accepted on any route (REST, webhooks, `/mcp`); more is `413 payload_too_large`. 1024 to 16 MiB.",
  },
  REFUNDKIT_HTTP_ALLOWED_HOSTS: {
    group: 'http',
    shown: "empty",
    effect: "Comma-separated extra host names `/mcp` answers to (DNS-rebinding protection), each `name` (any port) or `name:port`, e.g. `refunds.example.com,10.0.0.5:3000`. Needed when clients reach the server under a name other than the one it is bound to (a wildcard bind, a reverse proxy).",
  },
  STRIPE_WEBHOOK_SECRET: {
    group: 'http',
    shown: "unset",
    effect: "The webhook endpoint's signing secret (`whsec_…`). Turns on `POST /webhooks/stripe`. A malformed value is refused at start, and the error never echoes it.",
  },
} as const satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof VARIABLES;

/** The variables with a numeric default and range. */
export type NumericVariable = {
  [K in VariableName]: (typeof VARIABLES)[K] extends { default: number; rule: NumberRule } ? K : never;
}[VariableName];

/** The default as the docs show it. */
export function shownDefault(spec: VariableSpec): string {
  if (spec.shown !== undefined) return spec.shown;
  return spec.default === undefined ? 'unset' : `\`${spec.default}\``;
}
