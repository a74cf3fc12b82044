/**
 * Durability as ovsdb-server defines it (ovsdb-server(1), ovsdb(7)): a commit
 * is acknowledged once it is written to the database file, so it survives
 * `kill -9` of the server; a commit with `{"op":"commit","durable":true}` is
 * acknowledged only once it is also fdatasync'ed, so it survives a power cut.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcSession } from '../../src/lib/jsonrpc.js';
import { DatabaseLog } from '../../src/ovsdb/storage.js';
import { HostedDatabase } from '../../src/ovsdb/hosted-database.js';
import { OvsdbServer } from '../../src/ovsdb/server.js';
import { SCHEMA_FILES, loadSchemaJson } from '../../src/ovsdb/schema-files.js';
import { startServer, type RunningServer } from '../helpers/ovsdb-servers.js';

const DB = 'OVN_Northbound';
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function session(path: string): Promise<JsonRpcSession> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sock.once('connect', () => resolve(new JsonRpcSession(sock)));
    sock.once('error', reject);
  });
}

async function switchNames(sockPath: string): Promise<Set<string>> {
  const s = await session(sockPath);
  const r = (await s.request('transact', [DB, { op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] }])) as Array<{
    rows: Array<{ name: string }>;
  }>;
  s.close();
  return new Set(r[0]?.rows.map((x) => x.name));
}

/** One small transaction: insert a switch and, after the first, point the previous one at it. */
function ops(name: string, prev: string | undefined, durable: boolean): unknown[] {
  return [
    DB,
    { op: 'insert', table: 'Logical_Switch', row: { name } },
    ...(prev === undefined
      ? []
      : [
          {
            op: 'mutate',
            table: 'Logical_Switch',
            where: [['name', '==', prev]],
            mutations: [['other_config', 'insert', ['map', [['next', name]]]]],
          },
        ]),
    ...(durable ? [{ op: 'commit', durable: true }] : []),
  ];
}

interface Writers {
  stop(): Promise<void>;
}

/**
 * Four closed-loop writers; `onAck(name, durable)` runs as each reply
 * arrives. Every third transaction of a writer asks for a durable commit
 * when `mixDurable` is set. A writer stops at the first failure (the server died).
 */
async function startWriters(
  sockPath: string,
  prefix: string,
  mixDurable: boolean,
  onAck: (name: string, durable: boolean) => void,
): Promise<Writers> {
  const sessions = await Promise.all([0, 1, 2, 3].map(() => session(sockPath)));
  let stop = false;
  const loops = sessions.map(async (s, w) => {
    let prev: string | undefined;
    for (let i = 0; !stop; i++) {
      const name = `${prefix}-${w}-${i}`;
      const durable = mixDurable && i % 3 !== 2;
      let r: unknown;
      try {
        r = await s.request('transact', ops(name, prev, durable));
      } catch {
        return;
      }
      assert.ok(!JSON.stringify(r).includes('"error"'), JSON.stringify(r));
      onAck(name, durable);
      prev = name;
    }
  });
  return {
    stop: async () => {
      stop = true;
      await Promise.all(loops);
      for (const s of sessions) s.close();
    },
  };
}

test('kill -9 of the server under 4 writers, 20 times: no acknowledged transaction is missing', async () => {
  const server = await startServer('ovnts');
  cleanups.push(server.cleanup);
  const acked: string[] = [];
  let current: RunningServer = server;
  for (let round = 0; round < 20; round++) {
    const start = acked.length;
    const writers = await startWriters(current.sockPath, `r${round}`, false, (name) => acked.push(name));
    // Crash after a varying number of commits, so the kill lands at different points.
    const target = start + 50 + Math.floor(Math.random() * 200);
    while (acked.length < target) await new Promise((r) => setTimeout(r, 1));
    await current.kill9();
    await writers.stop();
    current = await server.restart();
    const present = await switchNames(current.sockPath);
    const missing = acked.filter((n) => !present.has(n));
    assert.deepEqual(missing, [], `round ${round}: ${missing.length} of ${acked.length} acknowledged transactions lost`);
  }
  assert.ok(acked.length >= 20 * 50);
});

/** An in-process server on a new database file, with a hook on every fdatasync. */
async function inProcessServer(
  onSync: (bytes: number) => void,
): Promise<{ dir: string; file: string; sockPath: string; server: OvsdbServer; hosted: HostedDatabase }> {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-durable-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'nb.db');
  await (await DatabaseLog.create(file, loadSchemaJson(SCHEMA_FILES.OVN_Northbound))).close();
  // No online compaction: the power cuts below truncate this very file.
  const hosted = await HostedDatabase.open(file, { onSync, compactMinBytes: Number.MAX_SAFE_INTEGER });
  const sockPath = join(dir, 'db.sock');
  const server = new OvsdbServer({ remotes: [`punix:${sockPath}`], databases: [hosted] });
  await server.start();
  cleanups.push(() => server.stop());
  return { dir, file, sockPath, server, hosted };
}

test('power cut (the file cut at the last fdatasync) under 4 writers: no acknowledged durable transaction is missing', async () => {
  let syncedBytes = 0;
  const { dir, file, hosted } = await inProcessServer((n) => {
    assert.ok(n >= syncedBytes, 'the synced offset only grows');
    syncedBytes = n;
  });
  const sockPath = join(dir, 'db.sock');
  const ackedDurable: string[] = [];
  const ackedPlain: string[] = [];
  const writers = await startWriters(sockPath, 'p', true, (name, durable) => (durable ? ackedDurable : ackedPlain).push(name));
  const cuts: Array<{ image: Buffer; durable: string[]; fileSize: number }> = [];
  for (let cut = 0; cut < 8; cut++) {
    const target = ackedDurable.length + 20 + Math.floor(Math.random() * 150);
    while (ackedDurable.length < target) await new Promise((r) => setImmediate(r));
    // The power cut, in one synchronous step: what stable storage holds now
    // (the file up to the last fdatasync) and what was acknowledged as durable by now.
    const whole = readFileSync(file);
    cuts.push({ image: whole.subarray(0, syncedBytes), durable: [...ackedDurable], fileSize: whole.length });
  }
  await writers.stop();
  assert.ok(ackedPlain.length > 0);
  const stats = (hosted.storage as DatabaseLog).stats;
  // Group commit: writers that commit while a sync runs share the next one.
  assert.ok(stats.syncs < ackedDurable.length, `${stats.syncs} syncs for ${ackedDurable.length} durable commits`);

  for (const [k, c] of cuts.entries()) {
    const img = join(dir, `cut-${k}.db`);
    writeFileSync(img, c.image);
    const reopened = await HostedDatabase.open(img);
    const present = new Set<string>();
    for (const row of reopened.db.table('Logical_Switch').rows.values()) present.add(row.cols['name']?.keys[0] as string);
    await reopened.close();
    const missing = c.durable.filter((n) => !present.has(n));
    assert.deepEqual(
      missing,
      [],
      `cut ${k} at ${c.image.length} of ${c.fileSize} bytes: ${missing.length} of ${c.durable.length} durable commits lost`,
    );
    // The real ovsdb-tool reads the cut file as the same database.
    const q = JSON.stringify([DB, { op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] }]);
    const real = JSON.parse(execFileSync('ovsdb-tool', ['query', img, q]).toString()) as Array<{ rows: Array<{ name: string }> }>;
    assert.deepEqual(real[0]?.rows.map((r) => r.name).sort(), [...present].sort());
  }
});

test('plain commits never fdatasync; durable ones do', async () => {
  const { sockPath, hosted } = await inProcessServer(() => {});
  const log = hosted.storage as DatabaseLog;
  let plain = 0;
  const w1 = await startWriters(sockPath, 'n', false, () => plain++);
  while (plain < 200) await new Promise((r) => setImmediate(r));
  await w1.stop();
  assert.equal(log.stats.syncs, 0, 'no fdatasync for plain commits');
  let durable = 0;
  const w2 = await startWriters(sockPath, 'd', true, (_n, d) => void (d && durable++));
  while (durable < 50) await new Promise((r) => setImmediate(r));
  await w2.stop();
  assert.ok(log.stats.syncs > 0);
  assert.equal(log.syncedSize <= log.size, true);
});
