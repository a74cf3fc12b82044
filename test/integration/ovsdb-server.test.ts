/**
 * Server behaviour beyond single transactions: blocking "wait" operations
 * and "cancel", monitor_cond_since on a standalone database, the
 * _Server database, and --detach/--pidfile on the command line.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcSession, RpcError } from '../../src/lib/jsonrpc.js';
import { startServer, OVNTS, NB_SCHEMA, type RunningServer } from '../helpers/ovsdb-servers.js';
import { run, waitFor } from '../helpers/proc.js';

let server: RunningServer & { cleanup(): Promise<void> };
const sessions: JsonRpcSession[] = [];

before(async () => {
  server = await startServer('ovnts');
});
after(async () => {
  for (const s of sessions) s.close();
  await server?.cleanup();
});

function open(): Promise<JsonRpcSession> {
  return new Promise((resolve, reject) => {
    const sock = connect(server.sockPath);
    sock.once('connect', () => {
      const s = new JsonRpcSession(sock);
      sessions.push(s);
      resolve(s);
    });
    sock.once('error', reject);
  });
}

const NB = 'OVN_Northbound';
const waitForSwitch = (name: string, timeout?: number) => ({
  op: 'wait',
  table: 'Logical_Switch',
  where: [['name', '==', name]],
  columns: ['name'],
  until: '==',
  rows: [{ name }],
  ...(timeout === undefined ? {} : { timeout }),
});

test('a blocked wait completes when another client commits what it waits for', async () => {
  const a = await open();
  const b = await open();
  const waiting = a.request('transact', [
    NB,
    waitForSwitch('later', 10_000),
    { op: 'insert', table: 'Logical_Switch', row: { name: 'after-later' } },
  ]);
  let settled = false;
  void waiting.then(() => (settled = true));
  // An unrelated commit does not release it.
  await b.request('transact', [NB, { op: 'insert', table: 'Logical_Switch', row: { name: 'other' } }]);
  await b.request('echo', []);
  assert.equal(settled, false, 'still blocked');
  await b.request('transact', [NB, { op: 'insert', table: 'Logical_Switch', row: { name: 'later' } }]);
  const r = (await waiting) as unknown[];
  assert.deepEqual(r[0], {});
  assert.ok((r[1] as { uuid?: unknown }).uuid, 'the rest of the transaction ran');
});

test('a wait with a timeout fails with "timed out" when the deadline passes', async () => {
  const a = await open();
  const t0 = Date.now();
  const r = (await a.request('transact', [NB, waitForSwitch('never', 200)])) as unknown[];
  assert.ok(Date.now() - t0 >= 190, 'waited for the timeout');
  // ovsdb-server's words for a wait that blocked and ran out (test/integration/ovsdb-wait-timeout.test.ts compares them).
  const [res] = r as Array<{ error: string; details: string }>;
  assert.equal(res?.error, 'timed out');
  assert.match(res?.details ?? '', /^"wait" timed out after \d+ ms$/);
});

test('cancel answers a blocked transaction with "canceled"', async () => {
  const a = await open();
  const p = a.request('transact', [NB, waitForSwitch('never')]);
  // The request id is the session's counter: the one just sent.
  const id = (a as unknown as { nextId: number }).nextId - 1;
  a.notify('cancel', [id]);
  await assert.rejects(p, (e: unknown) => e instanceof RpcError && e.error === 'canceled');
});

test('monitor_cond_since on a standalone database always sends the whole selection, as ovsdb-server does', async () => {
  const a = await open();
  const req = { Logical_Switch: [{ columns: ['name'] }] };
  const [found0, id0] = (await a.request('monitor_cond_since', [NB, 'm1', req, '00000000-0000-0000-0000-000000000000'])) as [
    boolean,
    string,
    unknown,
  ];
  assert.equal(found0, false);
  assert.equal(id0, '00000000-0000-0000-0000-000000000000');
  const b = await open();
  await b.request('transact', [NB, { op: 'insert', table: 'Logical_Switch', row: { name: 'since-1' } }]);
  const c = await open();
  const [found, , updates] = (await c.request('monitor_cond_since', [NB, 'm2', req, id0])) as [
    boolean,
    string,
    Record<string, Record<string, unknown>>,
  ];
  assert.equal(found, false);
  assert.ok(
    Object.values(updates['Logical_Switch'] ?? {}).some((u) => JSON.stringify(u) === JSON.stringify({ initial: { name: 'since-1' } })),
  );
});

test('a session that monitors sees its own commit before the reply, and every monitor sees one commit order, with commits pipelined from three sessions', async () => {
  const clients = await Promise.all([open(), open(), open()]);
  const seen = clients.map(() => [] as string[]);
  clients.forEach((c, i) => {
    c.setNotificationHandler((m, p) => {
      if (m !== 'update2') return;
      const rows = (p as [unknown, Record<string, Record<string, { insert?: { name?: string } }>>])[1]['Logical_Switch'] ?? {};
      for (const u of Object.values(rows)) if (u.insert?.name !== undefined) seen[i]?.push(u.insert.name);
    });
  });
  await Promise.all(clients.map((c, i) => c.request('monitor_cond', [NB, `po${i}`, { Logical_Switch: [{ columns: ['name'] }] }])));
  const late: string[] = [];
  // Ten transactions in flight per session at a time: several commits per turn of the server's loop.
  await Promise.all(
    clients.map(async (c, i) => {
      for (let round = 0; round < 5; round++) {
        await Promise.all(
          Array.from({ length: 10 }, async (_, k) => {
            const name = `po-${i}-${round}-${k}`;
            await c.request('transact', [NB, { op: 'insert', table: 'Logical_Switch', row: { name } }]);
            if (!(seen[i] ?? []).includes(name)) late.push(name);
          }),
        );
      }
    }),
  );
  assert.deepEqual(late, [], 'replies that came before their own update');
  await waitFor(() => seen.every((s) => s.filter((n) => n.startsWith('po-')).length === 150), { what: 'every update' });
  const orders = seen.map((s) => s.filter((n) => n.startsWith('po-')));
  assert.deepEqual(orders[1], orders[0]);
  assert.deepEqual(orders[2], orders[0]);
});

test('update3 notifications carry the zero transaction id of a standalone database', async () => {
  const a = await open();
  const notes: unknown[][] = [];
  a.setNotificationHandler((m, p) => {
    if (m === 'update3') notes.push(p as unknown[]);
  });
  await a.request('monitor_cond_since', [
    NB,
    'mx',
    { Logical_Switch: [{ columns: ['name'], where: [['name', '==', 'n3']] }] },
    '00000000-0000-0000-0000-000000000000',
  ]);
  const b = await open();
  await b.request('transact', [NB, { op: 'insert', table: 'Logical_Switch', row: { name: 'n3' } }]);
  await waitFor(() => notes.length > 0, { what: 'update3' });
  const [mid, txnId, upd] = notes[0] as [string, string, Record<string, Record<string, unknown>>];
  assert.equal(mid, 'mx');
  assert.equal(txnId, '00000000-0000-0000-0000-000000000000');
  assert.deepEqual(Object.values(upd['Logical_Switch'] ?? {}), [{ insert: { name: 'n3' } }]);
});

test('_Server describes the database and refuses writes', async () => {
  const a = await open();
  const r = (await a.request('transact', [
    '_Server',
    { op: 'select', table: 'Database', where: [], columns: ['name', 'model', 'connected', 'leader'] },
  ])) as Array<{ rows: unknown[] }>;
  assert.deepEqual(
    r[0]?.rows?.filter((row) => (row as { name: string }).name === NB),
    [{ name: NB, model: 'standalone', connected: true, leader: true }],
  );
  const w = (await a.request('transact', ['_Server', { op: 'delete', table: 'Database', where: [] }])) as Array<{ error?: string }>;
  assert.equal(w[0]?.error, 'permission error');
});

test('--detach returns once the server listens and --pidfile names it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-detach-'));
  try {
    const db = join(dir, 'nb.db');
    execFileSync(OVNTS, ['ovsdb-tool', 'create', db, NB_SCHEMA]);
    const sock = join(dir, 'db.sock');
    execFileSync(OVNTS, [
      'ovsdb-server',
      '--detach',
      `--pidfile=${join(dir, 'pid')}`,
      `--remote=punix:${sock}`,
      `--log-file=${join(dir, 'log')}`,
      db,
    ]);
    assert.ok(existsSync(sock), 'listening when --detach returns');
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    assert.ok(pid > 0);
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !existsSync(join(dir, 'pid')), { what: 'pidfile removed on exit' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the CLI refuses bad command lines with one clear line', () => {
  const run = (args: string[]) => {
    try {
      execFileSync(OVNTS, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      return { code: 0, stderr: '' };
    } catch (e) {
      const err = e as { status: number; stderr: Buffer };
      return { code: err.status, stderr: err.stderr.toString() };
    }
  };
  assert.deepEqual(run(['ovsdb-server', '--frob']), { code: 1, stderr: "ovsdb-server: unrecognized option '--frob'\n" });
  assert.deepEqual(run(['ovsdb-server', '--remote=punix:/nonexistent-dir/x.sock']).code, 1);
  const missing = run(['ovsdb-server', '/nonexistent-dir/x.db']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^ovsdb-server: .*nonexistent-dir\/x\.db.*\n$/);
});

test('ptcp remotes serve the real ovsdb-client over TCP on loopback', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-ptcp-'));
  // A port the kernel just handed out and took back: free for the server.
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const a = srv.address() as AddressInfo;
      srv.close(() => resolve(a.port));
    });
  });
  const db = join(dir, 'nb.db');
  execFileSync(OVNTS, ['ovsdb-tool', 'create', db, NB_SCHEMA]);
  const child = spawn(OVNTS, ['ovsdb-server', `--remote=ptcp:${port}:127.0.0.1`, `--log-file=${join(dir, 'log')}`, db], {
    stdio: 'ignore',
  });
  try {
    const out = await waitFor(
      async () => {
        const r = await run('ovsdb-client', ['--timeout=2', 'list-dbs', `tcp:127.0.0.1:${port}`]);
        return r.code === 0 ? r.stdout : undefined;
      },
      { what: 'ovsdb-client over tcp' },
    );
    assert.equal(out, 'OVN_Northbound\n_Server\n');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
