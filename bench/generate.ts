/**
 * Generates the benchmark database: ORGANIZATIONS organizations holding `rows` refunds between
 * them, with one test-mode API key each.
 *
 * The schema is the real one (the built program's openDatabase + migrate), and organizations and
 * keys go through the project's own stores (so keys are hashed as in production). Refunds are
 * written directly with prepared multi-row INSERTs in large transactions, and their audit events
 * by INSERT ... SELECT: going through the service one refund at a time would take many minutes.
 * Only while generating: no journal, no fsync, no foreign-key lookups (every id is the
 * generator's own), and the secondary indexes are dropped and then rebuilt from their own CREATE
 * statements. The CHECK constraints and triggers stay on, and the file is left in WAL mode with
 * exactly the schema the migrations make (test/bench/generate.test.ts checks it).
 *
 * The data looks like a real payments business:
 * - organizations are Zipf-sized (the largest holds about 28% of all refunds, the smallest 1.4%),
 *   so that the largest one has the 100,000+ rows per filter that deep pages need;
 * - statuses: completed 62%, pending 12%, processing 10%, cancelled 9%, failed 7%;
 * - processors: stripe 65%, adyen 18%, paypal 12%, sandbox 5%, each with its own id formats;
 * - amounts log-normal around $30, six currencies, six reasons, three initiators;
 * - metadata on three refunds in four (1 to 4 keys: order, customer, ticket, channel, note);
 * - idempotency keys on a third of the refunds made through the API or MCP;
 * - the audit trail each status implies (created, submitted, settled/failed/cancelled events);
 * - two years of history, newest last, at a rate that grows over time.
 *
 * Run alone: node bench/results/.build/bench/generate.js [--rows N] [--out FILE]
 */
import { createHash } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { SqliteDatabase } from '../src/store/sqlite/database.js';
import { ALNUM, DIGITS, distModule, LOWER_ALNUM, Random, UPPER_ALNUM } from './common.js';

type DatabaseModule = typeof import('../src/store/sqlite/database.js');
type OrganizationStoreModule = typeof import('../src/store/sqlite/organization-store.js');
type ApiKeyStoreModule = typeof import('../src/store/sqlite/api-key-store.js');
type GuardrailStoreModule = typeof import('../src/store/sqlite/guardrail-store.js');
type PolicyModule = typeof import('../src/domain/guardrails/policy.js');

export const ORGANIZATIONS = 20;
export const DEFAULT_ROWS = 1_000_000;
const SEED = 20_260_222;
/** The newest refund; fixed so that two runs generate the same rows. */
const HISTORY_END = Date.parse('2026-11-01T00:00:00.000Z');
const HISTORY_MS = 2 * 365 * 86_400_000;
const BATCH = 50_000;

const STATUSES = [
  ['completed', 62],
  ['pending', 12],
  ['processing', 10],
  ['cancelled', 9],
  ['failed', 7],
] as const;
type Status = (typeof STATUSES)[number][0];

const PROCESSORS = [
  ['stripe', 65],
  ['adyen', 18],
  ['paypal', 12],
  ['sandbox', 5],
] as const;
type Processor = (typeof PROCESSORS)[number][0];

const CURRENCIES = [
  ['usd', 70],
  ['eur', 12],
  ['gbp', 8],
  ['cad', 5],
  ['aud', 3],
  ['jpy', 2],
] as const;
const REASONS = [
  ['requested_by_customer', 38],
  ['product_not_received', 18],
  ['product_defective', 17],
  ['duplicate_charge', 14],
  ['fraudulent', 5],
  ['other', 8],
] as const;
const INITIATORS = [
  ['api', 55],
  ['dashboard', 25],
  ['mcp', 20],
] as const;
const CHANNELS = ['web', 'ios', 'android', 'phone', 'email', 'chat'] as const;
const NOTES = [
  'customer called support',
  'item arrived damaged',
  'charged twice at checkout',
  'order cancelled before shipping',
  'goodwill gesture',
  'wrong size, returned to warehouse',
  'subscription cancelled mid-cycle',
  'package lost by carrier',
] as const;
const ORGANIZATION_NAMES = [
  'Northwind Outfitters', 'Blue Harbor Coffee', 'Atlas Fitness Club', 'Lumen Home Goods', 'Pine & Oak Furniture',
  'Cobalt Cloud Hosting', 'Saffron Street Kitchens', 'Meridian Travel Co', 'Quill Stationery', 'Tidewater Surf Shop',
  'Granite Peak Gear', 'Willow Pet Supplies', 'Ember Candle Works', 'Orbit Electronics', 'Juniper Beauty',
  'Harvest Table Meals', 'Velvet Note Records', 'Summit Bike Rentals', 'Copperline Tools', 'Foxglove Florists',
] as const;

export interface GeneratedOrganization {
  id: string;
  name: string;
  /** A test-mode API key, created through the project's key store (only its hash is stored). */
  apiKey: string;
  refunds: number;
}

export interface GeneratedDatabase {
  path: string;
  rows: number;
  events: number;
  seconds: number;
  bytes: number;
  organizations: GeneratedOrganization[];
  /** The largest organization: the one the benchmark acts as. */
  largest: GeneratedOrganization;
  /** Refunds of the largest organization per `status|processor` (and per status, per processor, total). */
  counts: Record<string, number>;
}

/** Organization i (0-based) gets a share proportional to 1/(i+1). */
function organizationShares(): number[] {
  const weights = Array.from({ length: ORGANIZATIONS }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((sum, w) => sum + w, 0);
  return weights.map((w) => w / total);
}

function externalIds(random: Random, processor: Processor, refundId: string): { transaction: string; refund: string } {
  switch (processor) {
    case 'stripe':
      return {
        transaction: `${random.next() < 0.7 ? 'pi' : 'ch'}_3${random.string(23, ALNUM)}`,
        refund: `re_3${random.string(23, ALNUM)}`,
      };
    case 'adyen':
      return { transaction: random.string(16, DIGITS), refund: random.string(16, DIGITS) };
    case 'paypal':
      return { transaction: random.string(17, UPPER_ALNUM), refund: random.string(17, UPPER_ALNUM) };
    case 'sandbox':
      return { transaction: `sbx_ch_${random.string(12, LOWER_ALNUM)}`, refund: `sbx_re_${refundId.slice(4)}` };
  }
}

function metadataFor(random: Random): string | null {
  if (random.next() < 0.25) return null;
  const entries: Array<[string, string]> = [['orderId', `order_${random.string(8, DIGITS)}`]];
  if (random.next() < 0.6) entries.push(['customerId', `cus_${random.string(14, ALNUM)}`]);
  if (random.next() < 0.3) entries.push(['ticketId', `SUP-${random.string(5, DIGITS)}`]);
  if (random.next() < 0.4) entries.push(['channel', random.pick(CHANNELS)]);
  if (random.next() < 0.15) entries.push(['note', random.pick(NOTES)]);
  return JSON.stringify(Object.fromEntries(entries));
}

function amountFor(random: Random, currency: string): number {
  // Log-normal around 3,000 minor units ($30); yen has no minor unit, so it is ~100x larger.
  const base = Math.exp(8 + 1.1 * random.normal());
  const scaled = currency === 'jpy' ? base * 1.5 : base;
  return Math.max(50, Math.min(5_000_000, Math.round(scaled)));
}

export async function generateDatabase(path: string, rows: number = DEFAULT_ROWS, log: (line: string) => void = () => undefined): Promise<GeneratedDatabase> {
  const started = performance.now();
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) rmSync(path + suffix);
  const { openDatabase, migrate } = await distModule<DatabaseModule>('store/sqlite/database.js');
  const { SqliteOrganizationStore } = await distModule<OrganizationStoreModule>('store/sqlite/organization-store.js');
  const { SqliteApiKeyStore } = await distModule<ApiKeyStoreModule>('store/sqlite/api-key-store.js');
  const { SqliteGuardrailStore } = await distModule<GuardrailStoreModule>('store/sqlite/guardrail-store.js');
  const { DEFAULT_AGENT_POLICY } = await distModule<PolicyModule>('domain/guardrails/policy.js');

  const db: SqliteDatabase = openDatabase(path);
  migrate(db);
  const random = new Random(SEED);

  const organizationStore = new SqliteOrganizationStore(db);
  const apiKeyStore = new SqliteApiKeyStore(db);
  const guardrails = new SqliteGuardrailStore(db);
  const shares = organizationShares();
  const organizations: GeneratedOrganization[] = [];
  for (const [i, name] of ORGANIZATION_NAMES.slice(0, ORGANIZATIONS).entries()) {
    const id = `org_bench${String(i + 1).padStart(7, '0')}`;
    const at = new Date(HISTORY_END - HISTORY_MS - 86_400_000).toISOString();
    await organizationStore.create(name, { id, at });
    // The bench's key cancels generated refunds, which no key created: its operator allows that.
    await guardrails.setPolicy(id, { ...DEFAULT_AGENT_POLICY, cancelOthers: true }, 'bench', at);
    const { key } = await apiKeyStore.create(id, 'test');
    organizations.push({ id, name, apiKey: key, refunds: 0 });
  }
  const organizationIds = organizations.map((o) => o.id);
  const shareTable = organizationIds.map((id, i) => [id, shares[i] ?? 0] as const);

  // Generation only: no journal, no fsync, no foreign-key lookups (the generator only writes
  // ids it created), a big page cache. The server opens the file in WAL mode with its own settings.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('foreign_keys = OFF');
  db.pragma('cache_size = -524288');
  db.pragma('temp_store = MEMORY');
  // Bulk load: the secondary indexes are dropped and then rebuilt from their own CREATE statements
  // (sorting once is far cheaper than a million incremental B-tree inserts into each), so the
  // file ends with exactly the schema the migrations made.
  const indexes = db
    .prepare<[], { name: string; sql: string }>(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('refunds', 'refund_events') AND sql IS NOT NULL",
    )
    .all();
  for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);

  const ROWS_PER_INSERT = 100;
  const refundColumns = `id, organization_id, external_refund_id, transaction_id, amount, currency, reason, status,
    processor, metadata, initiated_by, created_at, updated_at, idempotency_key, request_fingerprint, next_attempt_at,
    attempts, last_error, next_sync_at`;
  const placeholders = (rowCount: number): string => Array.from({ length: rowCount }, () => `(${Array(19).fill('?').join(',')})`).join(',');
  const insertMany = db.prepare(`INSERT INTO refunds (${refundColumns}) VALUES ${placeholders(ROWS_PER_INSERT)}`);

  const seen = new Set<string>();
  const counts: Record<string, number> = {};
  const count = (key: string): void => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const largestId = organizationIds[0] ?? '';
  // The arrival rate grows linearly over the two years: position p in [0,1) maps to a moment with
  // density proportional to (0.5 + p), so the last months are three times as busy as the first.
  const timeAt = (p: number): number => {
    const u = Math.sqrt(0.25 + 2 * p) - 0.5;
    return HISTORY_END - HISTORY_MS + Math.floor(u * HISTORY_MS);
  };
  const iso = (ms: number): string => new Date(ms).toISOString();

  const writeBatch = db.transaction((from: number, to: number) => {
    let values: unknown[] = [];
    const flush = (): void => {
      const rowCount = values.length / 19;
      if (rowCount === ROWS_PER_INSERT) insertMany.run(values);
      else if (rowCount > 0) db.prepare(`INSERT INTO refunds (${refundColumns}) VALUES ${placeholders(rowCount)}`).run(values);
      values = [];
    };
    for (let n = from; n < to; n += 1) {
      let id = `ref_${random.string(12, LOWER_ALNUM)}`;
      while (seen.has(id)) id = `ref_${random.string(12, LOWER_ALNUM)}`;
      seen.add(id);
      const organizationId = random.weighted(shareTable);
      const status: Status = random.weighted(STATUSES);
      const processor: Processor = random.weighted(PROCESSORS);
      const currency = random.weighted(CURRENCIES);
      const initiatedBy = random.weighted(INITIATORS);
      const createdMs = timeAt((n + random.next()) / rows);
      const ids = externalIds(random, processor, id);
      const submitted = status === 'processing' || status === 'completed' || (status === 'failed' && random.next() < 0.8) ||
        (status === 'cancelled' && random.next() < 0.2);
      // A submission happens 1 to 11 minutes after creation (the audit events below place it
      // there too); settlement, failure or cancellation comes hours to days later.
      const updatedMs =
        status === 'pending' ? createdMs
        : status === 'processing' ? createdMs + 60_000 + random.int(600_000)
        : submitted ? createdMs + 4_260_000 + random.int(5 * 86_400_000)
        : createdMs + 60_000 + random.int(3_600_000);
      const idempotencyKey = initiatedBy !== 'dashboard' && random.next() < 0.33 ? `idem_${random.string(24, ALNUM)}` : null;
      values.push(
        id,
        organizationId,
        submitted ? ids.refund : null,
        ids.transaction,
        amountFor(random, currency),
        currency,
        random.weighted(REASONS),
        status,
        processor,
        metadataFor(random),
        initiatedBy,
        iso(createdMs),
        iso(updatedMs),
        idempotencyKey,
        idempotencyKey === null ? null : createHash('sha256').update(idempotencyKey).digest('hex'),
        // Pending refunds wait out a one-day review hold before the dispatcher may submit them.
        status === 'pending' ? iso(createdMs + 86_400_000) : null,
        submitted ? 1 : 0,
        status === 'failed' && !submitted ? `${processor} declined the refund` : null,
        status === 'processing' ? iso(updatedMs + 60_000) : null,
      );
      if (values.length === ROWS_PER_INSERT * 19) flush();
      if (organizationId === largestId) {
        count('total');
        count(`${status}|`);
        count(`|${processor}`);
        count(`${status}|${processor}`);
      }
    }
    flush();
  });

  for (let from = 0; from < rows; from += BATCH) {
    writeBatch(from, Math.min(rows, from + BATCH));
    if ((from / BATCH) % 5 === 4) log(`  ${Math.min(rows, from + BATCH).toLocaleString('en-US')} refunds written (${elapsed(started)})`);
  }

  // The audit trail each status implies, written by SQLite itself: creation, then submission,
  // then the final move. Three passes in this order keep each refund's events in id order.
  const insertEvents = (select: string): number =>
    db.prepare(`INSERT INTO refund_events (refund_id, organization_id, from_status, to_status, initiated_by, created_at, detail)
      ${select}`).run().changes;
  const events = db.transaction(() =>
    insertEvents(`SELECT id, organization_id, NULL, 'pending', initiated_by, created_at, 'created' FROM refunds ORDER BY rowid`) +
    insertEvents(`SELECT id, organization_id, 'pending', 'processing', 'system',
        CASE WHEN status = 'processing' THEN updated_at
             ELSE strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+' || (60 + (rowid * 7919) % 600) || ' seconds') END,
        'submitted to ' || processor
      FROM refunds WHERE attempts > 0 ORDER BY rowid`) +
    insertEvents(`SELECT id, organization_id, CASE WHEN attempts > 0 THEN 'processing' ELSE 'pending' END, status,
        CASE WHEN status = 'cancelled' THEN initiated_by ELSE 'system' END, updated_at,
        CASE WHEN attempts > 0 THEN 'status read from ' || processor
             WHEN status = 'cancelled' THEN 'cancelled before submission' ELSE 'rejected at submission' END
      FROM refunds WHERE status NOT IN ('pending', 'processing') ORDER BY rowid`),
  )();
  log(`  ${events.toLocaleString('en-US')} audit events written (${elapsed(started)})`);

  db.pragma('threads = 2');
  for (const index of indexes) db.exec(index.sql);
  log(`  ${indexes.length} indexes rebuilt (${elapsed(started)})`);
  const perOrganization = db
    .prepare<[], { organization_id: string; n: number }>('SELECT organization_id, count(*) AS n FROM refunds GROUP BY organization_id')
    .all();
  for (const row of perOrganization) {
    const organization = organizations.find((o) => o.id === row.organization_id);
    if (organization !== undefined) organization.refunds = row.n;
  }
  db.pragma('journal_mode = WAL');
  db.close();
  const largest = organizations[0];
  if (largest === undefined) throw new Error('no organizations generated');
  return {
    path,
    rows,
    events,
    seconds: (performance.now() - started) / 1000,
    bytes: statSync(path).size,
    organizations,
    largest,
    counts,
  };
}

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

async function runAlone(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, out: { type: 'string' } } });
  const rows = values.rows === undefined ? DEFAULT_ROWS : Number(values.rows);
  const out = values.out ?? 'bench/results/bench.db';
  const result = await generateDatabase(out, rows, (line) => process.stderr.write(`${line}\n`));
  const { organizations, ...rest } = result;
  process.stdout.write(
    `${JSON.stringify({ ...rest, largest: result.largest.id, organizations: organizations.map((o) => ({ id: o.id, refunds: o.refunds })) }, null, 2)}\n`,
  );
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await runAlone();
}
