/**
 * The OVSDB client's behaviour against a server, with the server-start step as a
 * parameter: client-real-ovsdb.test.ts runs it against the real ovsdb-server, and
 * the same suite runs against the ovnts server.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvsdbClient, TxnError, NotConnectedError, isTryAgain, type RowChange } from '../../src/ovsdb/client.js';
import { JsonRpcSession } from '../../src/lib/jsonrpc.js';
import { connect } from '../../src/ovsdb/remote.js';
import { datumFromJson, datumToJson, ZERO_UUID } from '../../src/ovsdb/datum.js';
import { NB_SCHEMA, type StartOvsdbServer, type TestOvsdbServer } from '../helpers/ovsdb-servers.js';

const NB = 'OVN_Northbound';

/** One raw transaction over a fresh connection, independent of the client under test. */
async function rawTransact(remote: string, ops: unknown[]): Promise<unknown[]> {
  const rpc = new JsonRpcSession(await connect(remote));
  try {
    return (await rpc.request('transact', [NB, ...ops])) as unknown[];
  } finally {
    rpc.close();
  }
}

/** A unix-socket proxy that the test can cut and block, to drop a client's connection. */
interface Proxy {
  remote: string;
  /** Drops every proxied connection; while blocked, new connections are closed at once. */
  cut(block: boolean): void;
  unblock(): void;
  close(): Promise<void>;
}

async function startProxy(target: string, dir: string): Promise<Proxy> {
  const path = join(dir, 'proxy.sock');
  const conns = new Set<Socket>();
  let blocked = false;
  const server: Server = createServer((down) => {
    if (blocked) {
      down.destroy();
      return;
    }
    conns.add(down);
    connect(target).then(
      (up) => {
        conns.add(up);
        down.pipe(up);
        up.pipe(down);
        const end = (): void => {
          down.destroy();
          up.destroy();
          conns.delete(down);
          conns.delete(up);
        };
        down.on('close', end).on('error', end);
        up.on('close', end).on('error', end);
      },
      () => down.destroy(),
    );
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    remote: `unix:${path}`,
    cut(block) {
      blocked = block;
      for (const c of conns) c.destroy();
    },
    unblock() {
      blocked = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const c of conns) c.destroy();
        server.close(() => r());
      }),
  };
}

/** `ovsdb-client dump` of one table, as `uuid → column → canonical JSON`. */
function dumpTable(client: OvsdbClient, remote: string, table: string): Map<string, Record<string, string>> {
  const text = execFileSync('ovsdb-client', ['--format=json', 'dump', remote, NB, table]).toString();
  const t = JSON.parse(text) as { headings: string[]; data: unknown[][] };
  const ts = client.schema.tables.get(table);
  assert.ok(ts);
  const out = new Map<string, Record<string, string>>();
  for (const row of t.data) {
    const rec: Record<string, string> = {};
    let uuid = '';
    t.headings.forEach((h, i) => {
      if (h === '_uuid') uuid = (row[i] as [string, string])[1];
      else {
        const c = ts.columns.get(h);
        assert.ok(c, h);
        rec[h] = JSON.stringify(datumToJson(datumFromJson(row[i], c.type, { relaxSize: true }), c.type));
      }
    });
    out.set(uuid, rec);
  }
  return out;
}

function replicaTable(client: OvsdbClient, table: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const [uuid, row] of client.table(table)) {
    const rec: Record<string, string> = {};
    for (const [col, d] of Object.entries(row.cols)) rec[col] = JSON.stringify(client.columnJson(table, col, d));
    out.set(uuid, rec);
  }
  return out;
}

function assertReplicaMatchesDump(client: OvsdbClient, remote: string, tables: string[]): void {
  for (const t of tables) assert.deepEqual(replicaTable(client, t), dumpTable(client, remote, t), `table ${t}`);
}

export function clientSuite(label: string, start: StartOvsdbServer): void {
  let server: TestOvsdbServer;
  let dir: string;
  const clients: OvsdbClient[] = [];
  const newClient = (opts: Partial<ConstructorParameters<typeof OvsdbClient>[0]> = {}): OvsdbClient => {
    const c = new OvsdbClient({ remotes: server.remote, database: NB, backoffMs: 20, maxBackoffMs: 200, ...opts });
    clients.push(c);
    return c;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ovnts-client-test-'));
    server = await start({ schemas: [NB_SCHEMA] });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${label}: initial snapshot`, async () => {
    await rawTransact(server.remote, [
      { op: 'insert', table: 'Logical_Switch', row: { name: 'pre0', external_ids: ['map', [['k', 'v']]] } },
      { op: 'insert', table: 'Address_Set', row: { name: 'as_pre', addresses: ['set', ['10.0.0.1', '10.0.0.2']] } },
    ]);
    const c = newClient();
    await c.start();
    assert.equal(c.isConnected, true);
    const sw = [...c.table('Logical_Switch').values()].find((r) => r.scalar('name') === 'pre0');
    assert.ok(sw);
    assert.deepEqual([...sw.map('external_ids')], [['k', 'v']]);
    assert.equal(sw.set('ports').length, 0);
    assertReplicaMatchesDump(c, server.remote, ['Logical_Switch', 'Address_Set', 'NB_Global']);
    await c.stop();
  });

  test(`${label}: inserts, updates and deletes arrive as change events`, async () => {
    const c = newClient({ tables: { Logical_Switch: ['name', 'external_ids', 'ports'], Logical_Switch_Port: true } });
    await c.start();
    const seen: RowChange[] = [];
    c.on('change', (cs) => seen.push(...cs));

    const txn = c.txn();
    const lsp = txn.insert('Logical_Switch_Port', { name: 'p1', tag_request: 7 }, 'p1');
    txn.insert('Logical_Switch', { name: 'sw1', ports: lsp }, 'sw1');
    await txn.commit();
    const swUuid = txn.insertedUuid('sw1');
    const lspUuid = txn.insertedUuid('p1');
    assert.ok(swUuid !== undefined && lspUuid !== undefined);
    await c.waitUntil(() => c.row('Logical_Switch', swUuid) !== undefined && c.row('Logical_Switch_Port', lspUuid) !== undefined);
    const ins = seen.find((ch) => ch.uuid === swUuid);
    assert.ok(ins && ins.old === null && ins.new !== null);
    assert.deepEqual(ins.new.set('ports'), [lspUuid]);
    assert.equal(c.row('Logical_Switch_Port', lspUuid)?.optional('tag_request'), 7);

    seen.length = 0;
    await c.txn().update('Logical_Switch', swUuid, { name: 'sw1-renamed' }).commit();
    await c.waitUntil(() => c.row('Logical_Switch', swUuid)?.scalar('name') === 'sw1-renamed');
    const mod = seen.find((ch) => ch.uuid === swUuid);
    assert.equal(mod?.old?.scalar('name'), 'sw1');
    assert.equal(mod?.new?.scalar('name'), 'sw1-renamed');

    seen.length = 0;
    await c.txn().delete('Logical_Switch', swUuid).commit();
    // The port is no longer referenced by a root row, so the server garbage-collects it.
    await c.waitUntil(() => c.row('Logical_Switch', swUuid) === undefined && c.row('Logical_Switch_Port', lspUuid) === undefined);
    const del = seen
      .filter((ch) => ch.new === null)
      .map((ch) => ch.table)
      .sort();
    assert.deepEqual(del, ['Logical_Switch', 'Logical_Switch_Port']);
    await c.stop();
  });

  test(`${label}: modify diffs on maps, sets and optional columns match ovsdb-client dump`, async () => {
    const c = newClient();
    await c.start();
    const txn = c.txn();
    txn.insert(
      'Logical_Switch',
      {
        name: 'diffs',
        external_ids: [
          'map',
          [
            ['a', '1'],
            ['b', '2'],
            ['c', '3'],
          ],
        ],
        other_config: ['map', [['x', 'y']]],
      },
      'ls',
    );
    txn.insert('Address_Set', { name: 'as_diff', addresses: ['set', ['1.1.1.1', '2.2.2.2']] }, 'as');
    const lspRef = txn.insert('Logical_Switch_Port', { name: 'opt', tag_request: 51 }, 'lsp');
    // Keep the port alive (it is not a root table): reference it from the switch.
    txn.op({
      op: 'mutate',
      table: 'Logical_Switch',
      where: [['name', '==', 'diffs']],
      mutations: [['ports', 'insert', ['set', [lspRef]]]],
    });
    await txn.commit();
    const ls = txn.insertedUuid('ls') as string;
    const as = txn.insertedUuid('as') as string;
    const lsp = txn.insertedUuid('lsp') as string;
    // Map: change a value, remove a key, add a key — all in one transaction.
    await rawTransact(server.remote, [
      {
        op: 'update',
        table: 'Logical_Switch',
        where: [['_uuid', '==', ['uuid', ls]]],
        row: {
          external_ids: [
            'map',
            [
              ['a', '1'],
              ['b', '20'],
              ['d', '4'],
            ],
          ],
          other_config: ['map', []],
        },
      },
      {
        op: 'mutate',
        table: 'Address_Set',
        where: [['_uuid', '==', ['uuid', as]]],
        mutations: [
          ['addresses', 'delete', '1.1.1.1'],
          ['addresses', 'insert', ['set', ['3.3.3.3', '4.4.4.4']]],
        ],
      },
      { op: 'update', table: 'Logical_Switch_Port', where: [['_uuid', '==', ['uuid', lsp]]], row: { tag_request: 52 } },
    ]);
    await c.waitUntil(() => c.row('Logical_Switch_Port', lsp)?.optional('tag_request') === 52);
    await c.waitUntil(() => c.row('Logical_Switch', ls)?.map('external_ids').get('d') === '4');
    const row = c.row('Logical_Switch', ls);
    assert.deepEqual(
      [...(row?.map('external_ids') ?? [])],
      [
        ['a', '1'],
        ['b', '20'],
        ['d', '4'],
      ],
    );
    assert.equal(row?.map('other_config').size, 0);
    assert.deepEqual(c.row('Address_Set', as)?.set('addresses'), ['2.2.2.2', '3.3.3.3', '4.4.4.4']);
    // Optional column cleared.
    await rawTransact(server.remote, [
      { op: 'update', table: 'Logical_Switch_Port', where: [['_uuid', '==', ['uuid', lsp]]], row: { tag_request: ['set', []] } },
    ]);
    await c.waitUntil(() => c.row('Logical_Switch_Port', lsp)?.optional('tag_request') === null);
    assertReplicaMatchesDump(c, server.remote, ['Logical_Switch', 'Address_Set', 'Logical_Switch_Port', 'NB_Global']);
    await c.stop();
  });

  test(`${label}: transaction errors are typed; verify fails when the row changed`, async () => {
    const c = newClient();
    await c.start();
    const txn = c.txn();
    txn.insert('Logical_Switch', { name: 'v1', external_ids: ['map', [['n', '1']]] }, 'ls');
    await txn.commit();
    const ls = txn.insertedUuid('ls') as string;
    await c.waitUntil(() => c.row('Logical_Switch', ls) !== undefined);

    // Referential integrity: a port set naming a row that does not exist.
    await assert.rejects(
      c
        .txn()
        .update('Logical_Switch', ls, { ports: ['set', [['uuid', '11111111-2222-3333-4444-555555555555']]] })
        .commit(),
      (e: unknown) => e instanceof TxnError && e.tag === 'referential integrity violation',
    );
    // An unknown table: ovsdb-server refuses the whole transaction as a syntax error.
    await assert.rejects(
      c.txn().comment('first').op({ op: 'select', table: 'Nope', where: [] }).commit(),
      (e: unknown) => e instanceof TxnError && e.tag === 'syntax error' && /Nope/.test(e.details ?? ''),
    );
    // Optimistic concurrency: verify against the replica, then someone else writes.
    const stale = c.txn().verify('Logical_Switch', ls, ['external_ids']).update('Logical_Switch', ls, { name: 'v1-mine' });
    await rawTransact(server.remote, [
      { op: 'update', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', ls]]], row: { external_ids: ['map', [['n', '2']]] } },
    ]);
    await assert.rejects(stale.commit(), (e: unknown) => e instanceof TxnError && e.tag === 'timed out' && isTryAgain(e));
    // Recompute from the (now updated) replica and retry: succeeds.
    await c.waitUntil(() => c.row('Logical_Switch', ls)?.map('external_ids').get('n') === '2');
    await c.txn().verify('Logical_Switch', ls, ['external_ids']).update('Logical_Switch', ls, { name: 'v1-mine' }).commit();
    await c.waitUntil(() => c.row('Logical_Switch', ls)?.scalar('name') === 'v1-mine');
    await c.stop();
    await assert.rejects(c.transact([]), (e: unknown) => e instanceof NotConnectedError);
  });

  test(`${label}: reconnects after the server is killed and restarted; the replica converges`, async () => {
    const c = newClient();
    await c.start();
    const before = await rawTransact(server.remote, [{ op: 'insert', table: 'Logical_Switch', row: { name: 'before-crash' } }]);
    const keep = (before[0] as { uuid: [string, string] }).uuid[1];
    await c.waitUntil(() => c.row('Logical_Switch', keep) !== undefined);
    const disconnected = new Promise<void>((r) => c.once('disconnected', () => r()));
    await server.kill();
    await disconnected;
    assert.equal(c.isConnected, false);
    await assert.rejects(c.txn().comment('x').commit(), (e: unknown) => isTryAgain(e));
    const reconnected = new Promise<void>((r) => c.once('connected', () => r()));
    await server.restart();
    await reconnected;
    const r = await rawTransact(server.remote, [
      { op: 'insert', table: 'Logical_Switch', row: { name: 'after-restart' } },
      { op: 'delete', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', keep]]] },
    ]);
    const added = (r[0] as { uuid: [string, string] }).uuid[1];
    await c.waitUntil(() => c.row('Logical_Switch', added) !== undefined && c.row('Logical_Switch', keep) === undefined);
    assertReplicaMatchesDump(c, server.remote, ['Logical_Switch', 'Logical_Switch_Port', 'Address_Set', 'NB_Global']);
    await c.stop();
  });

  test(`${label}: a dropped connection resumes with monitor_cond_since; changes made meanwhile arrive`, async () => {
    const proxy = await startProxy(server.remote, dir);
    try {
      const c = newClient({ remotes: proxy.remote });
      await c.start();
      assert.equal(c.monitorKind, 'monitor_cond_since');
      const seen: RowChange[] = [];
      c.on('change', (cs) => seen.push(...cs));
      const r0 = await rawTransact(server.remote, [{ op: 'insert', table: 'Logical_Switch', row: { name: 'resume-0' } }]);
      const u0 = (r0[0] as { uuid: [string, string] }).uuid[1];
      await c.waitUntil(() => c.row('Logical_Switch', u0) !== undefined);
      const txnBefore = c.lastTransactionId;

      const disconnected = new Promise<void>((r) => c.once('disconnected', () => r()));
      proxy.cut(true);
      await disconnected;
      // While the client is away: one insert, one update, one delete.
      const r1 = await rawTransact(server.remote, [
        { op: 'insert', table: 'Logical_Switch', row: { name: 'resume-1' } },
        { op: 'update', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', u0]]], row: { external_ids: ['map', [['k', 'v']]] } },
      ]);
      const u1 = (r1[0] as { uuid: [string, string] }).uuid[1];
      seen.length = 0;
      const reconnected = new Promise<void>((r) => c.once('connected', () => r()));
      proxy.unblock();
      await reconnected;
      await c.waitUntil(
        () => c.row('Logical_Switch', u1) !== undefined && c.row('Logical_Switch', u0)?.map('external_ids').get('k') === 'v',
      );
      // Only the real changes are reported, whether the server resumed or resent everything.
      assert.deepEqual(seen.map((ch) => ch.uuid).sort(), [u0, u1].sort());
      // A standalone ovsdb-server keeps no transaction history (the id stays all-zero).
      if (txnBefore !== ZERO_UUID) assert.notEqual(c.lastTransactionId, txnBefore);
      assertReplicaMatchesDump(c, server.remote, ['Logical_Switch']);
      await c.stop();
    } finally {
      await proxy.close();
    }
  });

  test(`${label}: with two remotes and the first one down, the client uses the second`, async () => {
    const c = newClient({ remotes: `unix:${join(dir, 'nothing-here.sock')},${server.remote}` });
    await c.start();
    assert.equal(c.currentRemote, server.remote);
    assert.ok(c.table('NB_Global') instanceof Map);
    await c.stop();
  });

  test(`${label}: locks: lock, wait, unlock hands over, steal`, async () => {
    const a = newClient({ tables: { NB_Global: true } });
    const b = newClient({ tables: { NB_Global: true } });
    await Promise.all([a.start(), b.start()]);
    assert.equal(await a.lock('L'), true);
    assert.equal(a.hasLock('L'), true);
    const bLocked = new Promise<string>((r) => b.once('locked', r));
    assert.equal(await b.lock('L'), false);
    await a.unlock('L');
    assert.equal(await bLocked, 'L');
    assert.equal(b.hasLock('L'), true);
    const bStolen = new Promise<string>((r) => b.once('stolen', r));
    assert.equal(await a.steal('L'), true);
    assert.equal(await bStolen, 'L');
    assert.equal(b.hasLock('L'), false);
    await Promise.all([a.stop(), b.stop()]);
  });
}
