/**
 * Fuzz: libnetwork requests to `ovnts docker-plugin` (src/cni/docker-driver.ts
 * behind src/cli/docker-plugin.ts), the real daemon on its unix socket, with
 * a real `ovnts ipam` on a private NB behind it, both in a private network
 * namespace (Join makes veths: they stay in there). Requests are stateful:
 * pool ids the plugin handed out are reused, network and endpoint ids come
 * from small sets, so RequestPool → CreateNetwork → RequestAddress →
 * CreateEndpoint → Join → Leave → DeleteEndpoint … sequences happen, mixed
 * with wrong types, missing fields, unknown methods, other HTTP methods and
 * bodies that are not JSON. Every answer is JSON: 200 with a result or
 * `{"Err": …}`, or 400/404/405 with `{"Err": …}`; never a 5xx, and the
 * plugin keeps serving.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { cleanupAll, spawnDaemon, tmpDir, type Daemon } from '../helpers/proc.js';
import { createNetns, runId } from '../helpers/netns.js';
import { NB_SCHEMA, OVNTS, startServer } from '../helpers/ovsdb-servers.js';
import { servedPort } from '../helpers/keystone-env.js';
import { FuzzFailure, fuzz, fuzzTimeoutMs } from './fuzz-env.js';

let plugin: Daemon | undefined;
let socket = '';
let nb: Awaited<ReturnType<typeof startServer>> | undefined;

before(async () => {
  const dir = tmpDir('ovnts-fuzz-docker');
  const ns = await createNetns(`${runId()}-fzd`);
  nb = await startServer('real', [NB_SCHEMA]);
  let port = '';
  await spawnDaemon('ip', ['netns', 'exec', ns, OVNTS, 'ipam', '--listen=127.0.0.1:0', `--ovnnb-db=${nb.remote}`], {
    name: 'ovnts-ipam',
    onLine: (l) => void (port = servedPort(l) ?? port),
    readyWhen: async () => port !== '',
  });
  socket = join(dir.path, 'ovnts.sock');
  plugin = await spawnDaemon(
    'ip',
    [
      'netns',
      'exec',
      ns,
      OVNTS,
      'docker-plugin',
      `--socket=${socket}`,
      `--ipam=http://127.0.0.1:${port}`,
      `--ovs-db=unix:${join(dir.path, 'no-db.sock')}`,
      '--install-timeout=200',
    ],
    { name: 'ovnts-docker-plugin', readyWhen: async () => existsSync(socket) },
  );
});

after(async () => {
  await cleanupAll();
  await nb?.cleanup();
});

function post(method: string, httpMethod: string, body: string | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    // Content-Length always, as Docker sends it (without it a GET's body would be read as the next request).
    const headers = { 'content-type': 'application/vnd.docker.plugins.v1.2+json', 'content-length': String(Buffer.byteLength(body ?? '')) };
    const req = http.request({ socketPath: socket, path: `/${encodeURI(method)}`, method: httpMethod, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const METHODS = [
  'Plugin.Activate',
  'NetworkDriver.GetCapabilities',
  'IpamDriver.GetCapabilities',
  'IpamDriver.GetDefaultAddressSpaces',
  'IpamDriver.RequestPool',
  'IpamDriver.RequestAddress',
  'IpamDriver.ReleaseAddress',
  'IpamDriver.ReleasePool',
  'NetworkDriver.CreateNetwork',
  'NetworkDriver.DeleteNetwork',
  'NetworkDriver.CreateEndpoint',
  'NetworkDriver.Join',
  'NetworkDriver.Leave',
  'NetworkDriver.DeleteEndpoint',
  'NetworkDriver.EndpointOperInfo',
  'NetworkDriver.DiscoverNew',
  'NetworkDriver.ProgramExternalConnectivity',
];
const odd = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('', 0, -1, true, null, [], {}, 'x'.repeat(300)));
const pools = ['198.51.100.0/28', '203.0.113.0/29', '198.51.100.0/33', '::/64', 'x', ''];
const netIds = ['n1', 'n2', 'n3'];
const epIds = ['e0000000000001', 'e0000000000002', ';id>fzd'];
const address = fc.oneof(fc.constantFrom('198.51.100.2', '198.51.100.2/28', '203.0.113.3/29', '10.0.0.1', 'x', ''), odd);
const field = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: odd });
/** A body with the fields libnetwork sends for each method (values from small sets, so requests meet), any of them odd or missing. */
const request = fc.record({
  method: fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...METHODS) },
    {
      weight: 1,
      arbitrary: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('toString', '__proto__', 'constructor', 'hasOwnProperty')),
    },
  ),
  httpMethod: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE'),
  poolRef: fc.nat(),
  body: fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record(
        {
          Pool: field(fc.constantFrom(...pools)),
          V6: field(fc.boolean()),
          Options: field(
            fc.record(
              {
                RequestAddressType: fc.constantFrom('com.docker.network.gateway', 'x'),
                'com.docker.network.endpoint.macaddress': fc.constantFrom('02:00:00:00:00:01', 'zz', ''),
              },
              { requiredKeys: [] },
            ),
          ),
          Address: field(address),
          NetworkID: field(fc.constantFrom(...netIds)),
          EndpointID: field(fc.constantFrom(...epIds)),
          IPv4Data: field(
            fc.array(
              fc.record(
                { Pool: field(fc.constantFrom(...pools)), Gateway: field(address), AddressSpace: fc.constant('ovnts-local') },
                { requiredKeys: [] },
              ),
              { maxLength: 2 },
            ),
          ),
          Interface: field(
            fc.record({ Address: field(address), MacAddress: field(fc.constantFrom('02:00:00:00:00:01', 'zz', '')) }, { requiredKeys: [] }),
          ),
          SandboxKey: field(fc.constantFrom('/var/run/docker/netns/nosuch')),
          usePool: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 50_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
  ),
});

test(
  'fuzz: the Docker plugin answers every libnetwork request in its protocol and keeps serving',
  { timeout: fuzzTimeoutMs(600, 500) },
  async () => {
    const poolIds: string[] = [];
    const statuses = new Set<number>();
    await fuzz(
      'docker-plugin',
      request,
      async (r) => {
        let text: string;
        if (typeof r.body === 'string') text = r.body;
        else {
          const { usePool, ...b } = r.body;
          // Stateful: a pool id the plugin gave out earlier, when there is one.
          const known = poolIds[r.poolRef % Math.max(1, poolIds.length)];
          text = JSON.stringify(usePool && known !== undefined ? { ...b, PoolID: known } : b);
        }
        const res = await post(r.method, r.httpMethod, text);
        statuses.add(res.status);
        const what = `${r.httpMethod} /${r.method} ${text.slice(0, 200)} → ${res.status} ${res.text.slice(0, 200)}`;
        if (![200, 400, 404, 405].includes(res.status)) throw new FuzzFailure(what);
        let doc: unknown;
        try {
          doc = JSON.parse(res.text);
        } catch {
          throw new FuzzFailure(`not JSON: ${what}`);
        }
        if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new FuzzFailure(`not an object: ${what}`);
        const o = doc as Record<string, unknown>;
        if (res.status !== 200 && typeof o['Err'] !== 'string') throw new FuzzFailure(`no Err: ${what}`);
        if (typeof o['PoolID'] === 'string' && poolIds.length < 50) poolIds.push(o['PoolID']);
      },
      { smokeRuns: 600, hangMs: 10_000, concurrency: 8, pid: () => plugin?.pid },
    );
    assert.ok(plugin?.running(), 'the plugin is alive');
    const r = await post('Plugin.Activate', 'POST', '{}');
    assert.equal(r.status, 200);
    if (process.env['FUZZ_PATH'] === undefined) {
      assert.ok(poolIds.length > 0, 'some pools were made (the requests reached the IPAM)');
      for (const s of [200, 400, 404]) assert.ok(statuses.has(s), `some ${s}: ${[...statuses].join(' ')}`);
    }
  },
);
