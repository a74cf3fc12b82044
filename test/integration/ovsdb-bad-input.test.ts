/**
 * Bad input never takes the server down: random bytes, truncated JSON, an
 * oversized message, unknown methods and wrong parameters each get an error
 * or a closed connection, answered as ovsdb-server answers them, while
 * another client keeps being served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { JsonRpcSession } from '../../src/lib/jsonrpc.js';
import { bothServers } from '../helpers/ovsdb-servers.js';

const servers = bothServers();

/** Sends raw bytes; returns the parsed replies and whether the server closed the connection. */
function exchange(
  path: string,
  bytes: Buffer | string,
  replies: number,
  endAfterWrite = false,
): Promise<{ replies: unknown[]; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = connect(path);
    let buf = '';
    const got: unknown[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve({ replies: got, closed });
    };
    sock.on('data', (d) => {
      buf += d.toString();
      // Replies here are small objects; split on the boundaries between them.
      for (const part of buf.split(/(?<=\})(?=\{)/)) {
        try {
          got.push(JSON.parse(part));
        } catch {
          return;
        }
      }
      buf = '';
      if (got.length >= replies) finish(false);
    });
    sock.on('close', () => finish(true));
    sock.on('error', () => finish(true));
    sock.on('connect', () => (endAfterWrite ? sock.end(bytes) : sock.write(bytes)));
    // A reply or a close comes at once; this only bounds a broken server.
    setTimeout(() => finish(false), 5000).unref();
  });
}

/** Replies without the optional "result":null member, with error objects' keys sorted. */
function canonical(replies: unknown[]): string {
  return JSON.stringify(
    replies.map((r) => {
      const o = { ...(r as Record<string, unknown>) };
      if (o['result'] === null) delete o['result'];
      return o;
    }),
    (_k, v: unknown) =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
        : v,
  );
}

const CASES: Array<[string, string, number]> = [
  ['unknown method', '{"method":"nope","params":[],"id":1}', 1],
  ['params not an array', '{"method":"transact","params":"x","id":2}', 1],
  ['transact without a database', '{"method":"transact","params":[],"id":3}', 1],
  ['unknown database', '{"method":"get_schema","params":["Nope"],"id":4}', 1],
  ['unknown monitor', '{"method":"monitor_cancel","params":["zz"],"id":5}', 1],
  ['echo', '{"method":"echo","params":[1,2],"id":6}', 1],
  ['top-level array', '[1,2,3]', 1],
  ['not a request', '{"foo":1}', 1],
  ['method not a string', '{"method":5,"params":[],"id":7}', 1],
  ['lock twice', '{"method":"lock","params":["a"],"id":8}{"method":"lock","params":["a"],"id":9}', 2],
  ['unknown table in monitor', '{"method":"monitor","params":["OVN_Northbound","m",{"Nope":{}}],"id":11}', 1],
  [
    'duplicate monitor id',
    '{"method":"monitor","params":["OVN_Northbound","m",{"NB_Global":{}}],"id":11}{"method":"monitor","params":["OVN_Northbound","m",{"NB_Global":{}}],"id":12}',
    2,
  ],
  ['empty transaction', '{"method":"transact","params":["OVN_Northbound"],"id":13}', 1],
  ['unknown monitor session', '{"method":"monitor_cond_change","params":["zz","yy",{}],"id":14}', 1],
  // ovsdb-server's parser takes nesting 1000 deep (the request object counting) and drops deeper.
  ['nesting 1000 deep', `{"method":"echo","params":${'['.repeat(999)}${']'.repeat(999)},"id":15}`, 1],
  ['nesting 1001 deep', `{"method":"echo","params":${'['.repeat(1000)}${']'.repeat(1000)},"id":16}`, 1],
  [
    'nesting 1001 deep in a transaction',
    `{"method":"transact","params":["OVN_Northbound",${'{"a":'.repeat(999)}1${'}'.repeat(999)}],"id":17}`,
    1,
  ],
];

test('malformed and wrong requests are answered as ovsdb-server answers them', async () => {
  const { real, ovnts } = servers;
  for (const [name, bytes, n] of CASES) {
    const a = await exchange(real.sockPath, bytes, n);
    const b = await exchange(ovnts.sockPath, bytes, n);
    assert.equal(canonical(b.replies), canonical(a.replies), `${name}: replies`);
    assert.equal(b.closed, a.closed, `${name}: connection closed`);
  }
});

test('garbage, truncated JSON and a 100 MB message close only their own connection', async () => {
  const { ovnts } = servers;
  const sock = connect(ovnts.sockPath);
  await new Promise((r) => sock.once('connect', r));
  const good = new JsonRpcSession(sock);
  const alive = async () => {
    assert.deepEqual(await good.request('echo', ['still here']), ['still here']);
    const r = await good.request('transact', ['OVN_Northbound', { op: 'select', table: 'NB_Global', where: [] }]);
    assert.ok(Array.isArray(r));
  };
  await alive();

  for (let i = 0; i < 20; i++) {
    // Random bytes may open a JSON object that never ends: the sender's EOF
    // must then end the connection.
    const r = await exchange(ovnts.sockPath, randomBytes(1 + ((i * 97) % 4096)), 1, true);
    assert.ok(r.closed, 'random bytes: connection closed');
  }
  await alive();

  // Truncated JSON then EOF: nothing to answer; the server must just drop it.
  const truncated = await exchange(ovnts.sockPath, '{"method":"transact","params":["OVN_Northbound",{"op":"sel', 1, true);
  assert.ok(truncated.closed, 'truncated JSON: connection closed');
  await alive();

  // 100 MB inside one string: refused by the size limit without buffering it all.
  const big = await new Promise<boolean>((resolve) => {
    const s = connect(ovnts.sockPath);
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    s.on('close', () => resolve(true));
    s.on('error', () => resolve(true));
    s.on('connect', () => {
      void (async () => {
        s.write('{"method":"echo","id":1,"params":["');
        for (let i = 0; i < 100 && !s.destroyed; i++) {
          if (!s.write(chunk)) await new Promise((r) => s.once('drain', r).once('close', r));
        }
        s.end('"]}');
      })();
    });
  });
  assert.ok(big, 'oversized message: connection closed');
  await alive();
  assert.equal(ovnts.process.exitCode, null, 'server still running');
  good.close();
});
