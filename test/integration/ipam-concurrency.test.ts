/**
 * Two `ovnts ipam` processes on one NB (`ovnts ovsdb-server`), 8 HTTP clients
 * creating 500 ports at once, half through each process, on two networks whose
 * /24 subnets they nearly fill (250 of 253 addresses each), so random
 * allocations collide often: every create succeeds, no two ports share an
 * address or a MAC, the API's port list (from either process) and the NB's
 * Logical_Switch_Ports are the same 500 ports with the same addresses, and
 * every port can be deleted afterwards, leaving no LSP behind.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { cleanupAll, runOk, spawnDaemon, tmpDir, waitFor, type Daemon } from '../helpers/proc.js';
import { NB_SCHEMA, OVNTS, startServer } from '../helpers/ovsdb-servers.js';
import { servedPort } from '../helpers/keystone-env.js';

after(cleanupAll);

const CLIENTS = 8;
const PORTS = 500;
const NETWORKS = [
  { name: 'conc-a', cidr: '198.51.100.0/24' },
  { name: 'conc-b', cidr: '203.0.113.0/24' },
] as const;

async function startIpam(nbRemote: string, dir: string): Promise<{ url: string; daemon: Daemon }> {
  let port: string | undefined;
  const daemon = await spawnDaemon(
    OVNTS,
    ['ipam', '--listen=127.0.0.1:0', `--ovnnb-db=${nbRemote}`, `--unixctl=${join(dir, `ipam-${randomUUID()}.ctl`)}`],
    {
      name: 'ovnts ipam',
      onLine: (l) => (port ??= servedPort(l)),
      readyWhen: async () => port !== undefined,
    },
  );
  return { url: `http://127.0.0.1:${port!}`, daemon };
}

interface Port {
  id: string;
  network_id: string;
  mac_address: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
}

async function api<T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

test(
  'two ovnts ipam on one NB, 8 clients, 500 ports at once: no duplicate address or MAC, none lost, all deletable',
  { timeout: 600_000 },
  async (t) => {
    const nb = await startServer('ovnts', [NB_SCHEMA]);
    after(() => nb.cleanup());
    const dir = tmpDir('ovnts-ipam-conc').path;
    const ipams = [await startIpam(nb.remote, dir), await startIpam(nb.remote, dir)];

    const networks: { id: string; subnet: string }[] = [];
    for (const [i, n] of NETWORKS.entries()) {
      const via = ipams[i % 2]!.url;
      const net = await api<{ network: { id: string } }>('POST', `${via}/v2.0/networks`, { network: { name: n.name } });
      assert.equal(net.status, 201, JSON.stringify(net.body));
      const sub = await api<{ subnet: { id: string } }>('POST', `${via}/v2.0/subnets`, {
        subnet: { network_id: net.body.network.id, cidr: n.cidr, ip_version: 4, name: `${n.name}-sub` },
      });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));
      networks.push({ id: net.body.network.id, subnet: sub.body.subnet.id });
    }

    // Client c creates ports c, c+8, c+16, ... through ipam c % 2, on network (port number) % 2.
    const created: Port[] = [];
    const failures: string[] = [];
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const via = ipams[c % 2]!.url;
        for (let n = c; n < PORTS; n += CLIENTS) {
          const r = await api<{ port: Port }>('POST', `${via}/v2.0/ports`, {
            port: { network_id: networks[n % 2]!.id, name: `conc-${n}` },
          });
          if (r.status === 201) created.push(r.body.port);
          else failures.push(`port ${n} via ${via}: ${r.status} ${JSON.stringify(r.body)}`);
        }
      }),
    );
    const ms = Date.now() - t0;
    t.diagnostic(`${PORTS} ports by ${CLIENTS} clients through 2 ipam processes: ${ms} ms (${Math.round((PORTS * 1000) / ms)} ports/s)`);
    assert.deepEqual(failures, []);
    assert.equal(created.length, PORTS);

    // No duplicate address (per network) and no duplicate MAC.
    const dup = (xs: string[]): string[] => xs.filter((x, i) => xs.indexOf(x) !== i);
    for (const net of networks) {
      const mine = created.filter((p) => p.network_id === net.id);
      assert.equal(mine.length, PORTS / 2);
      for (const p of mine) assert.equal(p.fixed_ips.length, 1, JSON.stringify(p));
      assert.deepEqual(dup(mine.map((p) => p.fixed_ips[0]!.ip_address)), [], 'duplicate addresses');
    }
    assert.deepEqual(dup(created.map((p) => p.mac_address)), [], 'duplicate MACs');
    assert.deepEqual(dup(created.map((p) => p.id)), [], 'duplicate ids');

    // None lost: both processes list the same 500, and the NB holds one LSP per port with its address.
    const expected = new Map(created.map((p) => [p.id, `${p.mac_address} ${p.fixed_ips[0]!.ip_address}`]));
    for (const ipam of ipams) {
      const list = await api<{ ports: Port[] }>('GET', `${ipam.url}/v2.0/ports`);
      assert.equal(list.status, 200);
      const listed = list.body.ports.filter(
        (p) => networks.some((n) => n.id === p.network_id) && p.fixed_ips.length > 0 && expected.has(p.id),
      );
      assert.equal(listed.length, PORTS, `${ipam.url} lists ${listed.length} of the created ports`);
    }
    const nbRows = await runOk('ovn-nbctl', [
      `--db=${nb.remote}`,
      '--timeout=30',
      '-f',
      'csv',
      '--data=bare',
      '--no-headings',
      '--columns=name,addresses',
      'list',
      'Logical_Switch_Port',
    ]);
    const lsps = new Map(
      nbRows
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [name, addresses] = l.split(',');
          return [name!, addresses ?? ''] as const;
        }),
    );
    const missing = [...expected.keys()].filter((id) => !lsps.has(id));
    assert.deepEqual(missing, [], 'ports without an LSP');
    for (const [id, addr] of expected) assert.equal(lsps.get(id), addr, `LSP ${id} addresses`);

    // Every port deletable, half through each process; then no LSP is left.
    const deleteFailures: string[] = [];
    const ids = [...expected.keys()];
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const via = ipams[c % 2]!.url;
        for (let n = c; n < ids.length; n += CLIENTS) {
          const r = await api<unknown>('DELETE', `${via}/v2.0/ports/${ids[n]!}`);
          if (r.status !== 204) deleteFailures.push(`${ids[n]!}: ${r.status} ${JSON.stringify(r.body)}`);
        }
      }),
    );
    assert.deepEqual(deleteFailures, []);
    await waitFor(
      async () =>
        (await runOk('ovn-nbctl', [`--db=${nb.remote}`, '--bare', '--columns=name', 'list', 'Logical_Switch_Port'])).trim() === '',
      {
        what: 'no LSP left',
      },
    );
    for (const ipam of ipams) {
      const list = await api<{ ports: Port[] }>('GET', `${ipam.url}/v2.0/ports`);
      assert.equal(list.body.ports.filter((p) => expected.has(p.id)).length, 0);
      assert.equal(ipam.daemon.running(), true);
    }
  },
);
