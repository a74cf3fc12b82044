/**
 * JSON-RPC framing and sessions: messages split at every byte offset, strings with
 * braces and escapes, multibyte UTF-8 across chunks, size and garbage rejection, a
 * property test, and sessions over real unix sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server, Socket } from 'node:net';
import fc from 'fast-check';
import { FramingError, JsonFramer, JsonRpcSession, MAX_NESTING_DEPTH, RpcError } from '../../src/lib/jsonrpc.js';
import { activeRemoteFor, connect, listen, parseRemote } from '../../src/ovsdb/remote.js';
import { parseJson } from '../../src/lib/json-int.js';

const MESSAGES: unknown[] = [
  { method: 'echo', params: [], id: 0 },
  { s: 'braces } { ] [ inside', q: 'escaped \\" quote \\\\', t: '\\' },
  [1, 2, [3, { a: '}' }]],
  { u: 'héllo wörld — 日本語 🎉', e: 'x\u0000y\n"' },
  { id: null, result: { nested: [[[[]]]], s: '"]}' }, error: null },
];

function encode(msgs: unknown[], sep = ''): Buffer {
  return Buffer.from(msgs.map((m) => JSON.stringify(m)).join(sep), 'utf8');
}

test('a buffer of several messages split at every offset, in two and in three pieces', () => {
  const buf = encode(MESSAGES, ' \n');
  for (let i = 0; i <= buf.length; i++) {
    const f = new JsonFramer();
    const got = [...f.push(buf.subarray(0, i)), ...f.push(buf.subarray(i))];
    assert.deepEqual(got, MESSAGES, `split at ${i}`);
  }
  for (let i = 0; i <= buf.length; i += 7) {
    for (let j = i; j <= buf.length; j += 5) {
      const f = new JsonFramer();
      const got = [...f.push(buf.subarray(0, i)), ...f.push(buf.subarray(i, j)), ...f.push(buf.subarray(j))];
      assert.deepEqual(got, MESSAGES, `split at ${i},${j}`);
    }
  }
});

test('byte-at-a-time feeding, including multibyte UTF-8 split inside a character', () => {
  const buf = encode(MESSAGES);
  const f = new JsonFramer();
  const got: unknown[] = [];
  for (let i = 0; i < buf.length; i++) got.push(...f.push(buf.subarray(i, i + 1)));
  assert.deepEqual(got, MESSAGES);
  assert.equal(f.bufferedBytes, 0);
});

test('a backslash at the very end of a chunk escapes the first byte of the next', () => {
  const text = '{"a":"x\\"}"}';
  const f = new JsonFramer();
  const cut = text.indexOf('\\') + 1;
  assert.deepEqual(f.push(Buffer.from(text.slice(0, cut))), []);
  assert.deepEqual(f.push(Buffer.from(text.slice(cut))), [{ a: 'x"}' }]);
});

test('oversized messages are refused while still arriving', () => {
  const f = new JsonFramer({ maxMessageBytes: 100 });
  assert.deepEqual(f.push(Buffer.from('{"a":"' + 'x'.repeat(80) + '"}')), [{ a: 'x'.repeat(80) }]);
  assert.deepEqual(f.push(Buffer.from('{"a":"' + 'x'.repeat(50))), []);
  assert.throws(() => f.push(Buffer.from('y'.repeat(60))), FramingError);
  // Broken for good: later input throws too.
  assert.throws(() => f.push(Buffer.from('{}')), FramingError);
  // A complete message over the limit in one chunk.
  const g = new JsonFramer({ maxMessageBytes: 10 });
  assert.throws(() => g.push(Buffer.from('{"aaaaaaaaaa":1}')), /message too long/);
});

test('nesting deeper than ovsdb-server accepts (1000, the top level counting) is refused, across chunks too', () => {
  const nest = (n: number): Buffer => Buffer.from(`{"a":${'['.repeat(n - 1)}${']'.repeat(n - 1)}}`);
  assert.equal(new JsonFramer().push(nest(MAX_NESTING_DEPTH)).length, 1);
  assert.throws(() => new JsonFramer().push(nest(MAX_NESTING_DEPTH + 1)), /input exceeds maximum nesting depth 1000/);
  const f = new JsonFramer();
  const deep = nest(MAX_NESTING_DEPTH + 1);
  assert.deepEqual(f.push(deep.subarray(0, 600)), []);
  assert.throws(() => f.push(deep.subarray(600)), /maximum nesting depth/);
  // Brackets inside strings do not count.
  assert.equal(new JsonFramer().push(Buffer.from(`{"a":"${'['.repeat(5000)}"}`)).length, 1);
});

test('garbage is refused with a FramingError', () => {
  for (const bad of ['"str"', '5', 'null', 'x{}', '{"a":1]', '{"a":}', '{"a" 1}', '[1,]']) {
    const f = new JsonFramer();
    assert.throws(() => f.push(Buffer.from(bad)), FramingError, bad);
  }
  const f = new JsonFramer();
  assert.throws(() => f.push(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])), /invalid UTF-8/);
});

test('property: random JSON objects, concatenated and chunked arbitrarily, come back equal', () => {
  const message = fc.oneof(fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()), fc.array(fc.jsonValue()));
  fc.assert(
    fc.property(
      fc.array(message, { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.constantFrom('', ' ', '\n', '\r\n\t'),
      (msgs, cuts, sep) => {
        // JSON round trip normalises -0 and the like, which the framer cannot know about;
        // integers beyond 2^53 come back exact (json-int.ts), as the text says.
        const expected = parseJson(JSON.stringify(msgs)) as unknown[];
        const buf = encode(msgs, sep);
        const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
        const f = new JsonFramer();
        const got: unknown[] = [];
        let prev = 0;
        for (const p of [...points, buf.length]) {
          got.push(...f.push(buf.subarray(prev, p)));
          prev = p;
        }
        assert.deepEqual(got, expected);
      },
    ),
    { numRuns: 300 },
  );
});

test('framing is linear: a 32 MiB string in 64 KiB chunks, and 100k small messages', () => {
  const big = Buffer.from(JSON.stringify({ s: 'a\\"b'.repeat(8 * 1024 * 1024) }));
  const f = new JsonFramer();
  let t = Date.now();
  let got: unknown[] = [];
  for (let i = 0; i < big.length; i += 65536) got = got.concat(f.push(big.subarray(i, i + 65536)));
  assert.equal(got.length, 1);
  assert.ok(Date.now() - t < 5000, `big message took ${Date.now() - t} ms`);
  const small = encode(Array.from({ length: 100000 }, (_, i) => ({ id: i, method: 'echo', params: ['x'] })));
  t = Date.now();
  const g = new JsonFramer();
  let count = 0;
  for (let i = 0; i < small.length; i += 65536) count += g.push(small.subarray(i, i + 65536)).length;
  assert.equal(count, 100000);
  assert.ok(Date.now() - t < 5000, `small messages took ${Date.now() - t} ms`);
});

test('parseRemote: the ovsdb remote forms', () => {
  assert.deepEqual(parseRemote('punix:/run/db.sock'), { kind: 'punix', path: '/run/db.sock' });
  assert.deepEqual(parseRemote('unix:/run/db.sock'), { kind: 'unix', path: '/run/db.sock' });
  assert.deepEqual(parseRemote('ptcp:6641'), { kind: 'ptcp', port: 6641, host: '0.0.0.0' });
  assert.deepEqual(parseRemote('ptcp:0:127.0.0.1'), { kind: 'ptcp', port: 0, host: '127.0.0.1' });
  assert.deepEqual(parseRemote('ptcp:6641:[::1]'), { kind: 'ptcp', port: 6641, host: '::1' });
  assert.deepEqual(parseRemote('tcp:127.0.0.1:6641'), { kind: 'tcp', host: '127.0.0.1', port: 6641 });
  assert.deepEqual(parseRemote('tcp:[::1]:6641'), { kind: 'tcp', host: '::1', port: 6641 });
  assert.deepEqual(parseRemote('tcp:10.0.0.1'), { kind: 'tcp', host: '10.0.0.1', port: 6640 });
  assert.throws(() => parseRemote('foo:bar'), /unknown stream type/);
  assert.throws(() => parseRemote('nocolon'), /unknown stream type/);
  assert.throws(() => parseRemote('tcp:1.2.3.4:99999'), /bad port number "99999"/);
});

interface Pair {
  server: JsonRpcSession;
  client: JsonRpcSession;
  serverSock: Socket;
  clientSock: Socket;
  done(): Promise<void>;
}

async function withListener<T>(
  fn: (srv: Server, remote: string, accepted: Socket[], next: () => Promise<Socket>) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-jsonrpc-'));
  const accepted: Socket[] = [];
  const waiters: Array<(s: Socket) => void> = [];
  const path = join(dir, 's.sock');
  const srv = await listen(`punix:${path}`, (s) => {
    const w = waiters.shift();
    if (w !== undefined) w(s);
    else accepted.push(s);
  });
  const next = (): Promise<Socket> => {
    const s = accepted.shift();
    return s !== undefined ? Promise.resolve(s) : new Promise((r) => waiters.push(r));
  };
  try {
    return await fn(srv, activeRemoteFor(srv), accepted, next);
  } finally {
    await new Promise((r) => srv.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pair(remote: string, next: () => Promise<Socket>, log?: (m: string) => void): Promise<Pair> {
  const [clientSock, serverSock] = await Promise.all([connect(remote), next()]);
  const server = new JsonRpcSession(serverSock, log === undefined ? {} : { log });
  const client = new JsonRpcSession(clientSock);
  return {
    server,
    client,
    serverSock,
    clientSock,
    done: async () => {
      client.close();
      server.close();
      await Promise.all([closed(clientSock), closed(serverSock)]);
    },
  };
}

function closed(s: Socket): Promise<void> {
  return s.closed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()));
}

function once(e: JsonRpcSession, ev: string): Promise<void> {
  return new Promise((r) => e.once(ev, () => r()));
}

test('session: requests, out-of-order replies, errors, notifications and echo', async () => {
  await withListener(async (_srv, remote, _acc, next) => {
    const logs: string[] = [];
    const p = await pair(remote, next, (m) => logs.push(m));
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    p.server.setRequestHandler(async (method, params) => {
      if (method === 'slow') {
        await gate;
        return 'slow done';
      }
      if (method === 'fail') throw new RpcError({ error: 'unknown database', details: 'nope' });
      if (method === 'crash') throw new Error('boom');
      return { method, params };
    });
    const notes: unknown[] = [];
    const noted = new Promise<void>((r) =>
      p.server.setNotificationHandler((method, params) => {
        notes.push([method, params]);
        r();
      }),
    );
    const slow = p.client.request('slow', []);
    assert.deepEqual(await p.client.request('fast', [1, 'a']), { method: 'fast', params: [1, 'a'] });
    release();
    assert.equal(await slow, 'slow done');
    await assert.rejects(p.client.request('fail', []), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.deepEqual(e.error, { error: 'unknown database', details: 'nope' });
      return true;
    });
    await assert.rejects(p.client.request('crash', []), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.deepEqual(e.error, { error: 'internal error', details: 'Error: boom' });
      return true;
    });
    // Echo is answered by the session itself, on both sides.
    assert.deepEqual(await p.client.request('echo', ['hi', 2]), ['hi', 2]);
    assert.deepEqual(await p.server.request('echo', [{ x: 1 }]), [{ x: 1 }]);
    // A session without a handler says "unknown method".
    await assert.rejects(p.server.request('whatever', []), (e: unknown) => e instanceof RpcError && e.error === 'unknown method');
    p.client.notify('cancel', [7]);
    await noted;
    assert.deepEqual(notes, [['cancel', [7]]]);
    await p.done();
  });
});

test('session: a peer closing rejects outstanding requests and emits close once', async () => {
  await withListener(async (_srv, remote, _acc, next) => {
    const p = await pair(remote, next);
    p.server.setRequestHandler(() => new Promise(() => {}));
    let closes = 0;
    p.client.on('close', () => closes++);
    const req = p.client.request('never', []);
    const c = once(p.client, 'close');
    p.server.close();
    await assert.rejects(req, /connection closed/);
    await c;
    p.client.close();
    assert.equal(closes, 1);
    await assert.rejects(p.client.request('x', []), /session closed/);
    await p.done();
  });
});

test('session: protocol errors drop only that connection, with a log line', async () => {
  await withListener(async (_srv, remote, _acc, next) => {
    for (const [bytes, why] of [
      ['{"method":5,"params":[],"id":1}', /method is not a JSON string/],
      ['{"foo":1}', /unexpected member "foo"/],
      ['[1,2]', /not a JSON object/],
      ['{"method":"x","params":"y","id":1}', /"params" must be JSON array/],
      ['{"method":"x","id":1}', /must have "params"/],
      ['{"id":42,"result":1,"error":null}', /unexpected reply/],
      ['"str"', /error parsing stream/],
      ['{"a":]}', /invalid JSON/],
    ] as const) {
      const logs: string[] = [];
      const [raw, serverSock] = await Promise.all([connect(remote), next()]);
      const server = new JsonRpcSession(serverSock, { log: (m) => logs.push(m), name: 'unix#1' });
      const c = once(server, 'close');
      const rawClosed = closed(raw);
      raw.write(bytes);
      await c;
      await rawClosed;
      assert.match(logs.join('\n'), why, bytes);
      assert.match(logs[0] ?? '', /^unix#1: /);
    }
  });
});

test('session: many messages in one write are batched and all answered', async () => {
  await withListener(async (_srv, remote, _acc, next) => {
    const p = await pair(remote, next);
    p.server.setRequestHandler((_m, params) => params);
    const n = 2000;
    const rs = await Promise.all(Array.from({ length: n }, (_, i) => p.client.request('x', [i, 'é'.repeat(i % 50)])));
    rs.forEach((r, i) => assert.deepEqual(r, [i, 'é'.repeat(i % 50)]));
    await p.done();
  });
});

test('session: the inactivity probe sends echo and closes a silent peer', async () => {
  await withListener(async (_srv, remote, _acc, next) => {
    // A live peer answers the echo and stays connected.
    const [c1, s1] = await Promise.all([connect(remote), next()]);
    const live = new JsonRpcSession(s1, { probeIntervalMs: 30 });
    const peer = new JsonRpcSession(c1);
    let echoes = 0;
    c1.on('data', () => echoes++);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (echoes >= 3) {
          clearInterval(check);
          resolve();
        }
      }, 10);
    });
    assert.equal(live.closed, false);
    live.close();
    peer.close();
    // A peer that reads but never answers is dropped.
    const [c2, s2] = await Promise.all([connect(remote), next()]);
    const logs: string[] = [];
    const probing = new JsonRpcSession(s2, { probeIntervalMs: 20, log: (m) => logs.push(m) });
    c2.resume();
    await once(probing, 'close');
    assert.match(logs.join('\n'), /inactivity probe/);
    await closed(c2);
  });
});

test('listen replaces a stale unix socket and exposes the ptcp port', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-remote-'));
  try {
    const path = join(dir, 'x.sock');
    // A crashed server leaves its socket file behind with nothing listening.
    spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    assert.ok(existsSync(path));
    const b = await listen(`punix:${path}`, (s) => s.end('{"id":0,"result":1,"error":null}'));
    await new Promise((r) => b.close(r));
    const t = await listen('ptcp:0:127.0.0.1', (s) => {
      const rpc = new JsonRpcSession(s);
      rpc.setRequestHandler(() => 'ok');
    });
    const remote = activeRemoteFor(t);
    assert.match(remote, /^tcp:127\.0\.0\.1:\d+$/);
    const sock = await connect(remote);
    const rpc = new JsonRpcSession(sock);
    assert.equal(await rpc.request('x', []), 'ok');
    rpc.close();
    await closed(sock);
    await new Promise((r) => t.close(r));
    await assert.rejects(connect(`unix:${join(dir, 'none.sock')}`), /connection failed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
