/**
 * A monitor client that stops reading cannot make the server grow without bound:
 * while another client commits 1 MiB values, ovnts ovsdb-server drops the stuck
 * client once 128 MiB are waiting for it, keeps serving the writer and new
 * clients, and its peak RSS stays bounded. With FUZZ_PEER=1 the real ovsdb-server
 * runs the same work and its peak is printed too (it holds a client's updates back
 * while its backlog is non-empty, merging them, instead of dropping it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { JsonRpcSession } from '../../src/lib/jsonrpc.js';
import { startServer, type ServerKind } from '../helpers/ovsdb-servers.js';
import { peakRssMb } from '../fuzz/fuzz-env.js';

const VALUE_BYTES = 1024 * 1024;
const UPDATES = 140;

async function open(path: string): Promise<Socket> {
  const sock = connect(path);
  await new Promise((r, j) => sock.once('connect', r).once('error', j));
  return sock;
}

async function slowReader(kind: ServerKind): Promise<{ peakMb: number; slowBytes: number; slowClosed: boolean }> {
  const server = await startServer(kind);
  try {
    const slow = await open(server.sockPath);
    slow.write(
      JSON.stringify({
        id: 1,
        method: 'monitor_cond',
        params: ['OVN_Northbound', null, { Logical_Switch: [{ columns: ['name', 'external_ids'] }] }],
      }),
    );
    // Never read: the kernel buffers fill and everything else waits in the server.
    slow.pause();
    const writer = new JsonRpcSession(await open(server.sockPath));
    const big = (i: number): string => `${i}:`.padEnd(VALUE_BYTES, 'x');
    await writer.request('transact', [
      'OVN_Northbound',
      { op: 'insert', table: 'Logical_Switch', row: { name: 'ls0', external_ids: ['map', [['k', big(0)]]] } },
    ]);
    for (let i = 1; i <= UPDATES; i++) {
      const r = await writer.request('transact', [
        'OVN_Northbound',
        { op: 'update', table: 'Logical_Switch', where: [['name', '==', 'ls0']], row: { external_ids: ['map', [['k', big(i)]]] } },
      ]);
      assert.ok(Array.isArray(r), 'the writer is served');
    }
    const peakMb = peakRssMb(server.process.pid);
    // A new client is served at once.
    const fresh = new JsonRpcSession(await open(server.sockPath));
    assert.deepEqual(await fresh.request('echo', ['x']), ['x']);
    fresh.close();
    writer.close();
    // Now read what the stuck client was sent, up to its end (or 3 s of silence when it was kept).
    let slowBytes = 0;
    const slowClosed = await new Promise<boolean>((resolve) => {
      let t = setTimeout(() => resolve(false), 3000);
      slow.on('data', (d: Buffer) => {
        slowBytes += d.length;
        clearTimeout(t);
        t = setTimeout(() => resolve(false), 3000);
      });
      slow.on('end', () => resolve(true));
      slow.on('error', () => resolve(true));
      slow.resume();
    });
    slow.destroy();
    return { peakMb, slowBytes, slowClosed };
  } finally {
    await server.cleanup();
  }
}

test('a monitor client that stops reading is dropped at 128 MiB of backlog; memory stays bounded', async () => {
  const o = await slowReader('ovnts');
  const line = (k: string, x: typeof o): string =>
    `${k} peak RSS ${x.peakMb} MB (stuck client dropped: ${x.slowClosed}, got ${Math.round(x.slowBytes / 2 ** 20)} MiB)`;
  console.log(`slow reader, ${UPDATES} x 1 MiB updates: ${line('ovnts', o)}`);
  // The real server's figure for the same work (slow here: about two minutes), when asked for.
  if (process.env['FUZZ_PEER'] === '1')
    console.log(`slow reader, ${UPDATES} x 1 MiB updates: ${line('real ovsdb-server', await slowReader('real'))}`);
  assert.ok(o.slowClosed, 'the stuck client was disconnected');
  assert.ok(o.slowBytes < 140 * 2 ** 20, `it was sent at most the backlog limit (${o.slowBytes} bytes)`);
  // 140 MiB of updates went to it; without the limit all of them would be held.
  assert.ok(o.peakMb < 450, `peak RSS ${o.peakMb} MB`);
});
