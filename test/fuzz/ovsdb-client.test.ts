/**
 * Fuzz target: the OVSDB client (src/ovsdb/client.ts) against a hostile server. A
 * fake server on a unix socket answers the client's requests with what a real
 * server would send (the schema, a monitor snapshot, then updates) mutated, with
 * wrong shapes, garbage, or nothing, and closes at random. The client must never
 * throw out of its event handlers (an uncaught exception or unhandled rejection is
 * a crash) and must stop within HANG_MS whatever happened. Each input starts a
 * client, so the smoke run is DEFAULT_RUNS / 20 inputs (FUZZ_RUNS sets it).
 */
import { test, after } from 'node:test';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { JsonFramer } from '../../src/lib/jsonrpc.js';
import { stringifyJson } from '../../src/lib/json-int.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { NB_SCHEMA } from '../helpers/ovsdb-servers.js';
import { DEFAULT_RUNS, FuzzFailure, fuzz } from './fuzz-env.js';
import { rpcMessage } from './ovsdb-inputs.js';

const schema = JSON.parse(readFileSync(NB_SCHEMA, 'utf8')) as unknown;

/** How the fake server answers the n-th request: properly, mutated, with another message, garbage, or by closing. */
const answer = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('proper' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('result' as const), result: fc.anything({ maxDepth: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('message' as const), msg: rpcMessage }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('silent' as const) }) },
);
type Answer = typeof answer extends fc.Arbitrary<infer T> ? T : never;

/** Monitor updates pushed after the snapshot: update2/update3 shapes with arbitrary rows. */
const update = fc.tuple(
  fc.constantFrom('update', 'update2', 'update3', 'locked', 'stolen', 'monitor_canceled'),
  fc.dictionary(
    fc.constantFrom('Logical_Switch', 'NB_Global', 'Nope'),
    fc.dictionary(
      fc.uuid(),
      fc.oneof(
        fc.record({ insert: fc.dictionary(fc.constantFrom('name', 'ports', 'x'), fc.anything({ maxDepth: 2 })) }, { requiredKeys: [] }),
        fc.anything({ maxDepth: 2 }),
      ),
      { maxKeys: 3 },
    ),
    { maxKeys: 2 },
  ),
);

const script = fc.record({ answers: fc.array(answer, { minLength: 1, maxLength: 8 }), updates: fc.array(update, { maxLength: 4 }) });
type Script = typeof script extends fc.Arbitrary<infer T> ? T : never;

function proper(method: string, params: unknown[]): unknown {
  switch (method) {
    case 'get_schema':
      return schema;
    case 'list_dbs':
      return ['OVN_Northbound', '_Server'];
    case 'monitor_cond_since':
      return [false, '00000000-0000-0000-0000-000000000000', {}];
    case 'monitor_cond':
    case 'monitor':
      return params[0] === '_Server' ? { Database: {} } : {};
    default:
      return {};
  }
}

/** Serves one connection by the script. */
function serve(sock: Socket, s: Script): void {
  const framer = new JsonFramer();
  let n = 0;
  sock.on('error', () => {});
  sock.on('data', (d: Buffer) => {
    let msgs: unknown[];
    try {
      msgs = framer.push(d);
    } catch {
      sock.destroy();
      return;
    }
    for (const m of msgs) {
      const req = m as { method?: string; params?: unknown[]; id?: unknown };
      if (req.id === undefined || req.id === null || typeof req.method !== 'string') continue;
      const a: Answer = s.answers[n++ % s.answers.length] as Answer;
      switch (a.kind) {
        case 'proper':
          sock.write(stringifyJson({ id: req.id, result: proper(req.method, req.params ?? []), error: null }));
          break;
        case 'result':
          sock.write(stringifyJson({ id: req.id, result: a.result, error: null }) ?? '');
          break;
        case 'message':
          sock.write(stringifyJson(a.msg) ?? '');
          break;
        case 'garbage':
          sock.write(Buffer.from(a.bytes));
          break;
        case 'close':
          sock.destroy();
          return;
        case 'silent':
          break;
      }
      if (req.method.startsWith('monitor') && req.params?.[0] !== '_Server') {
        for (const [method, body] of s.updates)
          sock.write(stringifyJson({ method, params: [req.params?.[1] ?? null, body], id: null }) ?? '');
      }
    }
  });
}

/**
 * Clients running at once, each against its own fake server: an input mostly waits on the exchange's
 * timers (up to 30 ms), so with 8 the target was two-thirds idle (128 inputs/s at load 20); 32 keeps a
 * core busy.
 */
const CONCURRENCY = 32;

test('the OVSDB client survives a hostile server and stops promptly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-fuzz-client-'));
  const current: (Script | undefined)[] = [];
  const servers: Server[] = [];
  for (let w = 0; w < CONCURRENCY; w++) {
    const server = createServer((sock) => {
      const s = current[w];
      if (s !== undefined) serve(sock, s);
      else sock.destroy();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(join(dir, `db${w}.sock`), r));
  }
  after(() => {
    for (const server of servers) server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // An exception escaping the client's handlers is charged to the input that next finishes: with
  // clients running side by side that may be a neighbour's; FUZZ_PATH replays each alone.
  const escaped: unknown[] = [];
  const onEscape = (e: unknown): void => void escaped.push(e);
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  after(() => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  });
  await fuzz(
    'ovsdb-client',
    script,
    async (s, w) => {
      current[w] = s;
      const client = new OvsdbClient({
        remotes: `unix:${join(dir, `db${w}.sock`)}`,
        database: 'OVN_Northbound',
        backoffMs: 5,
        maxBackoffMs: 20,
      });
      client.on('failed', () => {});
      const started = client.start().catch(() => {});
      // Let the exchange run for a moment: snapshot, updates, reconnects.
      await Promise.race([started, new Promise((r) => setTimeout(r, 30))]);
      // stop() must finish: the harness counts a hang past HANG_MS.
      await client.stop();
      await new Promise((r) => setImmediate(r));
      if (escaped.length > 0) throw new FuzzFailure(`escaped: ${String(escaped.splice(0)[0])}`);
    },
    { smokeRuns: DEFAULT_RUNS / 20, concurrency: CONCURRENCY },
  );
});
