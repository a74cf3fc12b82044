/**
 * Durability: under a stream of transactions, `kill -9` the ovnts server;
 * after a restart every acknowledged transaction is there, and the database
 * file still opens in the real ovsdb-server with the same rows.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { JsonRpcSession } from '../../src/lib/jsonrpc.js';
import { startServer, waitForSocket, type RunningServer } from '../helpers/ovsdb-servers.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
});

function session(path: string): Promise<JsonRpcSession> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sock.once('connect', () => resolve(new JsonRpcSession(sock)));
    sock.once('error', reject);
  });
}

async function names(server: RunningServer): Promise<Set<string>> {
  const s = await session(server.sockPath);
  const r = (await s.request('transact', [
    'OVN_Northbound',
    { op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] },
  ])) as Array<{ rows: Array<{ name: string }> }>;
  s.close();
  return new Set(r[0]?.rows.map((x) => x.name));
}

test('every acknowledged transaction survives kill -9', async () => {
  const server = await startServer('ovnts');
  cleanups.push(server.cleanup);
  const acked: string[] = [];
  const writers = await Promise.all([0, 1, 2, 3].map(() => session(server.sockPath)));
  let stop = false;
  const loops = writers.map(async (s, w) => {
    for (let i = 0; !stop; i++) {
      const name = `ls-${w}-${i}`;
      try {
        const r = (await s.request('transact', [
          'OVN_Northbound',
          { op: 'insert', table: 'Logical_Switch', row: { name, external_ids: ['map', [['i', String(i)]]] } },
          ...(i > 0
            ? [
                {
                  op: 'mutate',
                  table: 'Logical_Switch',
                  where: [['name', '==', `ls-${w}-${i - 1}`]],
                  mutations: [['other_config', 'insert', ['map', [['next', name]]]]],
                },
              ]
            : []),
        ])) as unknown[];
        assert.ok(!JSON.stringify(r).includes('"error"'), JSON.stringify(r));
        acked.push(name);
      } catch {
        return; // the server died under us: what was acknowledged is what counts
      }
    }
  });
  // Let a few hundred transactions through, then crash the server mid-stream.
  while (acked.length < 300) await new Promise((r) => setTimeout(r, 5));
  await server.kill9();
  stop = true;
  await Promise.all(loops);
  for (const s of writers) s.close();

  await server.restart();
  const after = await names(server);
  const missing = acked.filter((n) => !after.has(n));
  assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged transactions lost`);

  // The same file opens in the real ovsdb-server and holds the same rows.
  await server.stop();
  const dir = server.dir;
  const sock = join(dir, 'real.sock');
  const real = spawn('ovsdb-server', [`--remote=punix:${sock}`, `--unixctl=${join(dir, 'real.ctl')}`, '--no-chdir', ...server.dbFiles], {
    stdio: 'ignore',
  });
  try {
    await waitForSocket(sock, real);
    const select = JSON.stringify(['OVN_Northbound', { op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] }]);
    const out = JSON.parse(execFileSync('ovsdb-client', ['transact', `unix:${sock}`, select]).toString()) as Array<{
      rows: Array<{ name: string }>;
    }>;
    const realNames = new Set(out[0]?.rows.map((r) => r.name));
    assert.deepEqual([...realNames].sort(), [...after].sort());
  } finally {
    real.kill('SIGKILL');
  }
});
