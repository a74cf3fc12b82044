/**
 * Inputs for the OVSDB fuzz targets: structure-aware JSON-RPC requests for every
 * method ovsdb-server(7) serves (transaction operations, monitor requests and
 * conditions built from the NB schema's tables and columns, locks, convert, ...),
 * byte-level mutations of real clients' captured traffic, and framing abuse (deep
 * nesting, invalid UTF-8, huge strings and numbers, garbage).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringifyJson } from '../../src/lib/json-int.js';
import { REPO, NB_SCHEMA } from '../helpers/ovsdb-servers.js';

interface SchemaJson {
  tables: Record<string, { columns: Record<string, unknown> }>;
}

const schema = JSON.parse(readFileSync(NB_SCHEMA, 'utf8')) as SchemaJson;
const TABLES = Object.keys(schema.tables);
const COLUMNS = [...new Set(TABLES.flatMap((t) => Object.keys(schema.tables[t]?.columns ?? {})))];

/** The captured client traffic (test/fixtures/fuzz/ovsdb-client-traffic.json), one string per connection. */
export function loadCaptures(): string[] {
  const file = join(REPO, 'test', 'fixtures', 'fuzz', 'ovsdb-client-traffic.json');
  const j = JSON.parse(readFileSync(file, 'utf8')) as { captures: Array<{ bytes: string }> };
  return j.captures.map((c) => c.bytes);
}

/** Numbers at the edges: int64 bounds, 2^53 ± 1 (exact or refused, never rounded), reals, -0. */
const edgeNumber: fc.Arbitrary<number | bigint> = fc.oneof(
  fc.integer(),
  fc.constantFrom<number | bigint>(
    0,
    -0,
    2 ** 31,
    2 ** 31 - 1,
    2 ** 32,
    Number.MAX_SAFE_INTEGER,
    2n ** 53n + 1n,
    -(2n ** 53n) - 1n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    2n ** 63n,
    2n ** 64n + 7n,
    10n ** 30n,
    1.5,
    1e308,
    -1e-308,
  ),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const name = fc.oneof(fc.constantFrom(...TABLES, ...COLUMNS, '_uuid', '_version', 'name', ''), fc.string({ maxLength: 12 }));
const uuidText = fc.oneof(fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000', 'not-a-uuid'), fc.string({ maxLength: 40 }));

const atom: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.fullUnicodeString({ maxLength: 8 }) },
  { weight: 2, arbitrary: edgeNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('uuid', 'named-uuid'), uuidText) },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** An OVSDB datum or something close to one (RFC 7047 5.1). */
const datum: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: atom },
  { weight: 2, arbitrary: fc.tuple(fc.constant('set'), fc.array(atom, { maxLength: 5 })) },
  { weight: 2, arbitrary: fc.tuple(fc.constant('map'), fc.array(fc.tuple(atom, atom), { maxLength: 5 })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('set', 'map', 'uuid', 'x'), fc.anything({ maxDepth: 3 })) },
);

const FUNCTIONS = ['==', '!=', '<', '<=', '>', '>=', 'includes', 'excludes', 'in', '~', ''] as const;
const condition: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(name, fc.constantFrom(...FUNCTIONS), datum) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
);
const where = fc.array(condition, { maxLength: 4 });
const row = fc.dictionary(name, datum, { maxKeys: 4 });
const MUTATORS = ['+=', '-=', '*=', '/=', '%=', 'insert', 'delete', '?'] as const;
const mutation = fc.oneof(fc.tuple(name, fc.constantFrom(...MUTATORS), datum), fc.anything({ maxDepth: 2 }));
const columns = fc.oneof(fc.array(name, { maxLength: 4 }), fc.anything({ maxDepth: 2 }));
const table = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...TABLES) }, { weight: 1, arbitrary: name });

/** One transaction operation (RFC 7047 5.2), mostly well-formed, each member sometimes missing or of the wrong type. */
const operation: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record(
      { op: fc.constant('insert'), table, row, 'uuid-name': fc.string({ maxLength: 8 }) },
      { requiredKeys: ['op', 'table'] },
    ),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('select'), table, where, columns }, { requiredKeys: ['op'] }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('update'), table, where, row }, { requiredKeys: ['op'] }) },
  {
    weight: 2,
    arbitrary: fc.record(
      { op: fc.constant('mutate'), table, where, mutations: fc.array(mutation, { maxLength: 3 }) },
      { requiredKeys: ['op'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete'), table, where }, { requiredKeys: ['op'] }) },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        op: fc.constant('wait'),
        table,
        where,
        columns,
        until: fc.constantFrom('==', '!=', 'x'),
        rows: fc.array(row, { maxLength: 2 }),
        // A wait's timeout in ms: 0 answers at once; a big one blocks until the connection closes.
        timeout: fc.oneof(fc.constantFrom(0, 1, 2 ** 31, 2 ** 31 + 1, 2 ** 53), edgeNumber),
      },
      { requiredKeys: ['op'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('commit'), durable: fc.anything({ maxDepth: 1 }) }, { requiredKeys: ['op'] }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('abort') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('comment'), comment: fc.anything({ maxDepth: 1 }) }, { requiredKeys: ['op'] }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('assert'), lock: fc.anything({ maxDepth: 1 }) }, { requiredKeys: ['op'] }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
);

const dbName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('OVN_Northbound', '_Server') },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
);
const monitorRequest = fc.record(
  {
    columns,
    where,
    select: fc.oneof(
      fc.record({ initial: fc.boolean(), insert: fc.boolean(), delete: fc.boolean(), modify: fc.boolean() }, { requiredKeys: [] }),
      fc.anything({ maxDepth: 1 }),
    ),
  },
  { requiredKeys: [] },
);
const monitorRequests = fc.oneof(
  { weight: 5, arbitrary: fc.dictionary(table, fc.oneof(monitorRequest, fc.array(monitorRequest, { maxLength: 2 })), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
);
const monitorId = fc.oneof(fc.constantFrom(null, 'm', 0), fc.anything({ maxDepth: 2 }));

/** A small schema for "convert": mostly valid, named after a served database. */
const schemaArb = fc.record(
  {
    name: fc.oneof(fc.constantFrom('OVN_Northbound', '_Server'), fc.string({ maxLength: 8 })),
    version: fc.constantFrom('7.0.0', '1.2', 'x'),
    tables: fc.dictionary(
      table,
      fc.record({
        columns: fc.dictionary(
          name,
          fc.oneof(fc.constantFrom('string', 'integer', 'real', 'boolean', 'uuid'), fc.anything({ maxDepth: 2 })),
          { maxKeys: 3 },
        ),
      }),
      { maxKeys: 2 },
    ),
  },
  { requiredKeys: [] },
);

const anyParams = fc.array(fc.anything({ maxDepth: 3 }), { maxLength: 4 });

/** params for each method; each also gets arbitrary params sometimes. */
const methodParams: Record<string, fc.Arbitrary<unknown[]>> = {
  transact: fc.tuple(dbName, fc.array(operation, { maxLength: 5 })).map(([d, ops]) => [d, ...ops]),
  monitor: fc.tuple(dbName, monitorId, monitorRequests),
  monitor_cond: fc.tuple(dbName, monitorId, monitorRequests),
  monitor_cond_since: fc.tuple(dbName, monitorId, monitorRequests, fc.oneof(uuidText, fc.anything({ maxDepth: 1 }))),
  monitor_cond_change: fc.tuple(monitorId, monitorId, monitorRequests),
  monitor_cancel: fc.tuple(monitorId),
  lock: fc.tuple(fc.oneof(fc.string({ maxLength: 6 }), fc.anything({ maxDepth: 1 }))),
  steal: fc.tuple(fc.oneof(fc.string({ maxLength: 6 }), fc.anything({ maxDepth: 1 }))),
  unlock: fc.tuple(fc.oneof(fc.string({ maxLength: 6 }), fc.anything({ maxDepth: 1 }))),
  echo: anyParams,
  set_db_change_aware: fc.tuple(fc.oneof(fc.boolean(), fc.anything({ maxDepth: 1 }))),
  convert: fc.tuple(dbName, schemaArb),
  get_schema: fc.tuple(dbName),
  list_dbs: fc.constant([]),
  get_server_id: fc.constant([]),
  cancel: fc.tuple(fc.anything({ maxDepth: 1 })),
};
const METHODS = Object.keys(methodParams);

/** One JSON-RPC message: mostly a request of a known method, sometimes any shape. */
export const rpcMessage: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom(...METHODS).chain((m) =>
      fc.record({
        method: fc.constant(m),
        params: fc.oneof({ weight: 8, arbitrary: methodParams[m] ?? anyParams }, { weight: 1, arbitrary: anyParams }),
        id: fc.oneof(
          { weight: 6, arbitrary: fc.nat() },
          { weight: 1, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
        ),
      }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        method: fc.oneof(fc.string(), fc.anything({ maxDepth: 1 })),
        params: fc.anything({ maxDepth: 2 }),
        id: fc.anything({ maxDepth: 1 }),
        result: fc.anything({ maxDepth: 1 }),
        error: fc.anything({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
);

const utf8Abuse = fc.constantFrom(
  Buffer.from([0xff]),
  Buffer.from([0xc0, 0x80]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from('\\ud800'),
  Buffer.from('\\u0000'),
  Buffer.from([0x00]),
);

/** A byte-level mutation of `b` (never longer than a few MiB). */
function mutate(b: Buffer, how: number, at: number, len: number, extra: Buffer): Buffer {
  const i = b.length === 0 ? 0 : at % b.length;
  const j = Math.min(b.length, i + len);
  switch (how) {
    case 0: {
      const c = Buffer.from(b);
      if (c.length > 0) c[i] = (c[i] as number) ^ (1 << (len % 8));
      return c;
    }
    case 1:
      return Buffer.concat([b.subarray(0, i), extra, b.subarray(i)]);
    case 2:
      return Buffer.concat([b.subarray(0, i), b.subarray(j)]);
    case 3:
      return b.subarray(0, i);
    case 4:
      return Buffer.concat([b.subarray(0, j), b.subarray(i, j), b.subarray(i)]);
    case 5: {
      // A number token replaced by a huge or beyond-2^53 one.
      const s = b.toString('latin1');
      const m = /\d+/g;
      m.lastIndex = i;
      const r = m.exec(s);
      if (r === null) return b;
      const digits = len % 2 === 0 ? '9007199254740993' : '9'.repeat(20 + (len % 400));
      return Buffer.from(s.slice(0, r.index) + digits + s.slice(r.index + r[0].length), 'latin1');
    }
    case 6: {
      // A string's contents replaced by a long one.
      const q = b.indexOf(0x22, i);
      if (q < 0) return b;
      return Buffer.concat([b.subarray(0, q + 1), Buffer.alloc(1000 + len * 1000, 0x61), b.subarray(q + 1)]);
    }
    default: {
      // Nesting: wrap a value in arrays/objects near and past the depth limit.
      const depth = 990 + (len % 20);
      const open = Buffer.from(len % 3 === 0 ? '{"a":'.repeat(depth) : '['.repeat(depth));
      const close = Buffer.from(len % 3 === 0 ? '}'.repeat(depth) : ']'.repeat(depth));
      return Buffer.concat([b.subarray(0, i), open, b.subarray(i, j), close, b.subarray(j)]);
    }
  }
}

/** One connection's bytes: generated messages, mutated captures, or framing abuse. */
export function connectionBytes(captures: readonly string[]): fc.Arbitrary<Buffer> {
  const generated = fc
    .array(rpcMessage, { minLength: 1, maxLength: 4 })
    .map((ms) => Buffer.from(ms.map((m) => stringifyJson(m) ?? 'null').join('')));
  const captured = fc.constantFrom(...captures).map((s) => Buffer.from(s));
  const extra = fc.oneof(
    fc.uint8Array({ maxLength: 16 }).map((u) => Buffer.from(u)),
    utf8Abuse,
    fc.constantFrom(Buffer.from('{'), Buffer.from(']'), Buffer.from('"')),
  );
  const mutation = fc.tuple(fc.nat(7), fc.nat(), fc.nat(64), extra);
  const mutated = fc
    .tuple(fc.oneof(captured, generated), fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([b, ms]) => ms.reduce<Buffer>((acc, [h, a, l, e]) => mutate(acc, h, a, l, e), b));
  const garbage = fc.uint8Array({ maxLength: 256 }).map((u) => Buffer.from(u));
  return fc.oneof(
    { weight: 6, arbitrary: generated },
    { weight: 2, arbitrary: captured },
    { weight: 6, arbitrary: mutated },
    { weight: 1, arbitrary: garbage },
  );
}
