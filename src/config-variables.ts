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
  /** Why the range is what it is, added to the refusal. */
  why?: string;
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
  REFUNDKIT_DATABASE_URL: {
    group: 'general',
    shown: "unset (SQLite at `REFUNDKIT_DB_PATH`)",
    effect: "`postgres://USER:PASSWORD@HOST:5432/DATABASE` (or `postgresql://…`) keeps everything in that PostgreSQL database instead of the SQLite file, so that several processes on several hosts share it ([postgres.md](postgres.md)). The schema is migrated on every start, once however many processes start together. `REFUNDKIT_DB_PATH` is then ignored. The password is masked in every log line and error, and a malformed value is refused at start without being echoed.",
  },
  REFUNDKIT_API_KEY: {
    group: 'general',
    shown: "unset",
    effect: "The key the stdio server acts with: it sees only that key's organization. The stdio server needs it. A missing, unknown or revoked key stops it at start with one line on stderr and exit code 1. The operator commands (`init`, `orgs`, `keys`) ignore it.",
  },
  REFUNDKIT_READ_ONLY: {
    group: 'general',
    shown: "`0`",
    effect: "`1`, `true` or `yes` leaves every write tool (`create_refund`, `cancel_refund`) unregistered, so the agent can only read. The server then writes nothing to the database: it runs no background loop, `get_refund` answers the stored status without asking the processor, and `dispatch` refuses to run. The database enforces this: SQLite through a read-only connection, PostgreSQL through read-only transactions. The one exception is start-up: the server still migrates an older schema, since that is set-up, not data, and an upgrade must not depend on which process starts first. `0`, `false`, `no` or empty means off. Any other value is an error.",
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
  REFUNDKIT_STDIO_MAX_MESSAGE_BYTES: {
    group: 'general',
    default: 1_048_576,
    rule: { min: 1_024, max: 10_485_760, integer: true },
    shown: '`1048576` (1 MiB)',
    effect: 'Longest line the stdio server reads as one message (a refund call is a few hundred bytes). A longer line is dropped as it streams in, never held whole, and answered with a JSON-RPC `Invalid Request` (`-32600`, no id); the session goes on. A message costs up to about 35 times its size in memory while it is parsed and checked. 1024 to 10 MiB.',
  },
  REFUNDKIT_CALL_DEADLINE_SECONDS: {
    group: 'general',
    default: 15,
    rule: { min: 1, max: 50, why: 'MCP clients give up on a call after 60 s by default, and a call must answer well before' },
    effect: 'The longest any tool call or REST call waits on the processor (create\'s submission, cancel, get\'s status read), from 1 to 50. MCP clients give up on a call after 60 s by default, and an agent that sees a timeout may create the refund again without its idempotency key; so the call answers in time whatever Stripe does: a create returns the refund `pending` and queued (the submission goes on and is recorded, or retried), a cancel answers `processor_unavailable` or `refund_busy` and changes nothing. Each Stripe request of the call gets what is left of it as its timeout, with only the SDK retries that fit.',
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
    effect: "Timeout of one Stripe request (shortened to what is left of `REFUNDKIT_CALL_DEADLINE_SECONDS` when a caller waits). Twice this, and at least 160 s, is how long a refund stays in doubt after an unanswered submission (a cancel is refused meanwhile).",
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
  REFUNDKIT_HTTP_SHUTDOWN_GRACE_SECONDS: {
    group: 'http',
    default: 10,
    rule: { min: 0, max: 3_600 },
    effect: "How long `http` lets requests in flight finish after SIGTERM/SIGINT before it cuts their connections (0 to 3600). Idle connections, and connections that have sent nothing, are closed at once.",
  },
  REFUNDKIT_MCP_MAX_SESSIONS: {
    group: 'http',
    default: 1_000,
    rule: { min: 1, max: 100_000, integer: true },
    effect: 'Ceiling on `/mcp` sessions in the process (about 75 KB each). Past it a new session is refused (`503`, `Retry-After`); no session is ended for it. 1 to 100000.',
  },
  REFUNDKIT_MCP_MAX_SESSIONS_PER_ORG: {
    group: 'http',
    default: 200,
    rule: { min: 1, max: 100_000, integer: true },
    effect: "`/mcp` sessions one organization may hold. Past it, the new session's key gives up its own least recently used idle session, or the new session is refused (`429`). 1 to 100000.",
  },
  REFUNDKIT_MCP_MAX_SESSIONS_PER_KEY: {
    group: 'http',
    default: 100,
    rule: { min: 1, max: 100_000, integer: true },
    effect: "`/mcp` sessions opened with one key. Past it, that key's least recently used idle session is ended to make room, or, when all have a request in progress, the new session is refused (`429`). 1 to 100000.",
  },
  REFUNDKIT_MCP_STATELESS: {
    group: 'http',
    shown: "`0` on SQLite; always on with `REFUNDKIT_DATABASE_URL`",
    effect: "`1`, `true` or `yes` serves `/mcp` without sessions (stateless Streamable HTTP), so that several processes can sit behind a plain round-robin balancer with no sticky sessions: every POST is answered on its own, `GET` and `DELETE /mcp` are `405`, the session settings (`REFUNDKIT_MCP_MAX_SESSIONS…`, `REFUNDKIT_MCP_SESSION_IDLE_SECONDS`) do not apply, and a write the policy wants confirmed by the person at the client waits for an operator's approval (create) or is refused (cancel), since no answer to a question could come back ([postgres.md](postgres.md)). On PostgreSQL it is always on. `0`, `false`, `no` or empty means off. Any other value is an error.",
  },
  REFUNDKIT_MCP_SESSION_IDLE_SECONDS: {
    group: 'http',
    default: 1_800,
    rule: { min: 1, max: 86_400, integer: true },
    effect: 'A `/mcp` session with no request for this long is ended, its open GET stream included. 1 to 86400.',
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
