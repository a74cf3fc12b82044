/**
 * The client against a scripted server: falling back from monitor_cond_since to
 * monitor_cond to monitor on "unknown method", the version 1 update format, an
 * update that arrives in the same read as the monitor reply, and a server
 * without `_Server` or `set_db_change_aware`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcSession, RpcError } from '../../src/lib/jsonrpc.js';
import { listen } from '../../src/ovsdb/remote.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';

const SCHEMA = {
  name: 'T',
  version: '1.0.0',
  tables: {
    A: {
      columns: {
        n: { type: 'integer' },
        s: { type: { key: 'string', min: 0, max: 'unlimited' } },
        m: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
      },
    },
  },
};
const U1 = '11111111-1111-1111-1111-111111111111';
const U2 = '22222222-2222-2222-2222-222222222222';

async function withScriptedServer(supports: ReadonlySet<string>, fn: (remote: string, calls: string[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-client-unit-'));
  const calls: string[] = [];
  const sessions: JsonRpcSession[] = [];
  const server = await listen(`punix:${join(dir, 's.sock')}`, (sock) => {
    const rpc = new JsonRpcSession(sock);
    sessions.push(rpc);
    rpc.setRequestHandler((method, params) => {
      calls.push(method);
      const p = params as unknown[];
      if (method === 'get_schema') return SCHEMA;
      if ((method === 'transact' || method === 'monitor') && p[0] === '_Server')
        throw new RpcError({ error: 'unknown database', details: '_Server' });
      if (!supports.has(method)) throw new RpcError('unknown method');
      if (method === 'monitor') {
        // The first update goes out in the same write as the reply.
        queueMicrotask(() =>
          rpc.notify('update', [
            p[1],
            {
              A: {
                [U1]: { old: { n: 1 }, new: { n: 2, s: ['set', ['a', 'b']], m: ['map', [['k', 'v']]] } },
                [U2]: { new: { n: 5, s: 'z', m: ['map', []] } },
              },
            },
          ]),
        );
        return { A: { [U1]: { new: { n: 1, s: ['set', ['a']], m: ['map', []] } } } };
      }
      if (method === 'monitor_cond') {
        queueMicrotask(() => rpc.notify('update2', [p[1], { A: { [U1]: { modify: { s: 'c', m: ['map', [['k', 'v']]] } } } }]));
        return { A: { [U1]: { initial: { n: 1, s: 'a' } } } };
      }
      throw new RpcError('unknown method');
    });
  });
  try {
    await fn(`unix:${join(dir, 's.sock')}`, calls);
  } finally {
    for (const s of sessions) s.close();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}

test('falls back to monitor (version 1 updates) on an old server', async () => {
  await withScriptedServer(new Set(['monitor']), async (remote, calls) => {
    const c = new OvsdbClient({ remotes: remote, database: 'T' });
    await c.start();
    assert.equal(c.monitorKind, 'monitor');
    await c.waitUntil(() => c.table('A').size === 2);
    const r1 = c.row('A', U1);
    assert.equal(r1?.scalar('n'), 2);
    assert.deepEqual(r1?.set('s'), ['a', 'b']);
    assert.deepEqual([...(r1?.map('m') ?? [])], [['k', 'v']]);
    assert.deepEqual(c.row('A', U2)?.set('s'), ['z']);
    assert.deepEqual(calls.slice(0, 5), ['monitor', 'get_schema', 'set_db_change_aware', 'monitor_cond_since', 'monitor_cond']);
    await c.stop();
  });
});

test('falls back to monitor_cond; initial rows get defaults for omitted columns; update2 diffs apply', async () => {
  await withScriptedServer(new Set(['monitor_cond']), async (remote) => {
    const c = new OvsdbClient({ remotes: remote, database: 'T', tables: { A: true } });
    const changes: unknown[] = [];
    c.on('change', (cs) => changes.push(...cs));
    await c.start();
    assert.equal(c.monitorKind, 'monitor_cond');
    await c.waitUntil(() => c.row('A', U1)?.set('s').length === 2);
    assert.deepEqual(c.row('A', U1)?.set('s'), ['a', 'c']);
    assert.deepEqual([...(c.row('A', U1)?.map('m') ?? [])], [['k', 'v']]);
    assert.equal(changes.length, 2);
    await c.stop();
  });
});

test('start() rejects when stopped before any remote answers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-client-unit-'));
  try {
    const c = new OvsdbClient({ remotes: `unix:${join(dir, 'none.sock')}`, database: 'T', backoffMs: 5 });
    const started = c.start();
    const stopping = c.stop();
    await assert.rejects(started, /stopped before it connected/);
    await stopping;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
