/**
 * Two IPAM servers on one NB (the ovnts or the real ovsdb-server) hand out every address
 * of a small pool to concurrent requests exactly once: each allocation is a
 * transaction guarded by a `wait` on what it read, rebuilt on conflict.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer, type ServerKind } from '../helpers/ovsdb-servers.js';
import { createIpamServer, type IpamServer } from '../../src/ipam/index.js';

type Body = Record<string, unknown>;

for (const kind of ['ovnts', 'real'] as ServerKind[])
  describe(`ovnts ipam: two servers, one NB (${kind} ovsdb-server), concurrent allocations`, () => {
    let nb: RunningServer & { cleanup(): Promise<void> };
    const servers: IpamServer[] = [];
    const call = async (s: IpamServer, method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> => {
      const r = await fetch(`http://127.0.0.1:${s.port}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: r.status, body: (await r.json()) as Body };
    };

    before(async () => {
      nb = await startServer(kind);
      for (let i = 0; i < 2; i++) {
        const s = createIpamServer({ port: 0, nbRemotes: nb.remote });
        await s.start();
        servers.push(s);
      }
    });
    after(async () => {
      for (const s of servers) await s.stop();
      await nb?.cleanup();
    });

    it('gives each of 61 concurrent ports its own address and MAC, then says the pool is empty', async () => {
      const [a, b] = servers as [IpamServer, IpamServer];
      const net = (await call(a, 'POST', '/v2.0/networks', { network: { name: 'n' } })).body['network'] as Body;
      const netId = net['id'] as string;
      const sub = await call(b, 'POST', '/v2.0/subnets', { subnet: { network_id: netId, ip_version: 4, cidr: '10.1.0.0/26' } });
      assert.equal(sub.status, 201);
      const results = await Promise.all(
        Array.from({ length: 61 }, (_, i) =>
          call(i % 2 === 0 ? a : b, 'POST', '/v2.0/ports', { port: { network_id: netId, name: `p${i}` } }),
        ),
      );
      for (const r of results) assert.equal(r.status, 201, JSON.stringify(r.body));
      const ports = results.map((r) => r.body['port'] as Body);
      const ips = ports.map((p) => (p['fixed_ips'] as Array<{ ip_address: string }>)[0]?.ip_address);
      const macs = ports.map((p) => p['mac_address']);
      assert.equal(new Set(ips).size, 61);
      assert.equal(new Set(macs).size, 61);
      const full = await call(a, 'POST', '/v2.0/ports', { port: { network_id: netId } });
      assert.equal(full.status, 409);
      assert.deepEqual(full.body, {
        NeutronError: { type: 'IpAddressGenerationFailure', message: `No more IP addresses available on network ${netId}.`, detail: '' },
      });
      // Both servers see all of them, from the NB alone.
      for (const s of servers)
        assert.equal(((await call(s, 'GET', `/v2.0/ports?network_id=${netId}&fields=id`)).body['ports'] as unknown[]).length, 61);
    });

    it(
      'answers reads from its replica while the NB is away, 503 for writes, and writes again once it is back',
      { timeout: 120_000 },
      async () => {
        const [a] = servers as [IpamServer];
        const netId = (((await call(a, 'GET', '/v2.0/networks')).body['networks'] as Body[])[0] as Body)['id'] as string;
        await nb.kill9();
        const down = await call(a, 'POST', '/v2.0/networks', { network: { name: 'while-down' } });
        assert.deepEqual(down, {
          status: 503,
          body: { NeutronError: { type: 'ServiceUnavailable', message: 'The service is unavailable.', detail: '' } },
        });
        assert.equal((await call(a, 'GET', `/v2.0/networks/${netId}`)).status, 200);
        await nb.restart();
        let r = await call(a, 'POST', '/v2.0/networks', { network: { name: 'after' } });
        for (let i = 0; r.status === 503 && i < 20; i++) r = await call(a, 'POST', '/v2.0/networks', { network: { name: 'after' } });
        assert.equal(r.status, 201);
        assert.deepEqual(((await call(a, 'GET', '/v2.0/networks?fields=name')).body['networks'] as Body[]).map((n) => n['name']).sort(), [
          'after',
          'n',
        ]);
      },
    );
  });
