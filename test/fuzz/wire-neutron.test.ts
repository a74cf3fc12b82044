/**
 * Fuzz: the Neutron v2.0 API and the Keystone identity routes of
 * `ovnts ipam --auth=keystone` (src/ipam, src/ipam/keystone), on a private NB
 * (the real ovsdb-server), CONCURRENCY requests at once: one worker over a real
 * keep-alive HTTP connection to the listening server (so Node's HTTP parser,
 * body limits and connection handling are fuzzed too), the others in process
 * through fastify's inject (the same routes, without the sockets' cost): random
 * methods, paths (every collection, ids, actions, `.json`, junk), query
 * strings (fields, filters, sort, paging, repeated and odd keys), headers
 * (tokens good, bad and missing; content types), and bodies (random JSON,
 * resource bodies with wrong types and unknown attributes, deep and huge
 * documents, text that is not JSON). Every answer is a 2xx or a 4xx with
 * the API's error body (`{"NeutronError": …}` under /v2.0, Keystone's
 * `{"error": …}` under /v3 and /v2.0/tokens); never a 5xx, never a crash,
 * and the server still answers a plain request afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fc from 'fast-check';
import { NB_SCHEMA, startServer } from '../helpers/ovsdb-servers.js';
import { createIpamServer, type IpamServer } from '../../src/ipam/index.js';
import { createKeystoneAuthenticator, parseDirectory } from '../../src/ipam/keystone/index.js';
import { FuzzFailure, fuzz, fuzzTimeoutMs } from './fuzz-env.js';

const USERS = {
  projects: [{ name: 'admin' }, { name: 'demo' }],
  users: [
    { name: 'admin', password: 'adminpw', roles: { admin: ['admin'], demo: ['admin'] } },
    { name: 'alice', password: 'alicepw', roles: { demo: ['member'] }, default_project: 'demo' },
  ],
};

let nb: Awaited<ReturnType<typeof startServer>> | undefined;
let server: IpamServer | undefined;
let adminToken = '';

before(async () => {
  nb = await startServer('real', [NB_SCHEMA]);
  server = createIpamServer({
    nbRemotes: nb.remote,
    port: 0,
    authenticator: createKeystoneAuthenticator({ users: parseDirectory(USERS) }),
  });
  await server.start();
  const r = await server.app.inject({
    method: 'POST',
    url: '/v3/auth/tokens',
    headers: { 'content-type': 'application/json' },
    payload: {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'adminpw' } } },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    },
  });
  assert.equal(r.statusCode, 201, r.body);
  adminToken = String(r.headers['x-subject-token']);
});

after(async () => {
  await server?.stop();
  await nb?.cleanup();
});

/** Requests in flight at once: the writes wait on the NB's round trips. Worker 0 goes over the socket. */
const CONCURRENCY = 4;
/** The server's default body limit: a larger body is refused with 413, over a socket perhaps by closing it. */
const BODY_LIMIT = 1024 * 1024;

/** One request over the real socket, on the one kept-alive connection of `agent`. */
function overSocket(
  agent: http.Agent,
  port: number,
  r: { method: string; url: string; headers: Record<string, string>; body: string | undefined },
): Promise<{ statusCode: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { ...r.headers, ...(r.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(r.body)) }) };
    const req = http.request({ host: '127.0.0.1', port, agent, method: r.method, path: r.url, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

const COLLECTIONS = ['networks', 'subnets', 'ports', 'routers', 'trunks', 'extensions', 'floatingips', 'security-groups', ''];
const ACTIONS = ['add_router_interface', 'remove_router_interface', 'add_subports', 'remove_subports', 'get_subports', 'tags', 'x'];
const ATTRS = [
  'name',
  'id',
  'network_id',
  'subnet_id',
  'cidr',
  'ip_version',
  'gateway_ip',
  'enable_dhcp',
  'allocation_pools',
  'dns_nameservers',
  'host_routes',
  'fixed_ips',
  'mac_address',
  'admin_state_up',
  'device_id',
  'device_owner',
  'port_security_enabled',
  'tenant_id',
  'project_id',
  'shared',
  'mtu',
  'external_gateway_info',
  'port_id',
  'sub_ports',
  'segmentation_id',
  'binding:host_id',
  'ip_address',
  'start',
  'end',
  'description',
  'tags',
  'qos_policy_id',
  '__proto__',
  'constructor',
];

const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    '10.0.0.0/24',
    '10.0.0.0/33',
    '::/0',
    'fe80::/64',
    '10.0.0.1',
    '300.1.1.1',
    'fa:16:3e:00:00:01',
    'zz',
    '',
    4,
    6,
    -1,
    1e308,
    2 ** 64,
    true,
    null,
  ),
  fc.uuid(),
);
const resourceBody = fc
  .tuple(
    fc.constantFrom('network', 'subnet', 'port', 'router', 'trunk', 'networks', 'x'),
    fc.dictionary(fc.constantFrom(...ATTRS), oddValue, { maxKeys: 6 }),
    fc.boolean(),
  )
  .map(([res, attrs, list]) => ({ [res]: list ? [attrs] : attrs }));
const deepJson = fc.integer({ min: 1, max: 100_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
/** Bodies that make something (a network with odd but valid attributes), so the write paths run too. */
const validish = fc
  .record(
    {
      name: fc.string({ maxLength: 30 }),
      admin_state_up: fc.boolean(),
      mtu: fc.integer({ min: 68, max: 9000 }),
      description: fc.string({ maxLength: 20 }),
    },
    { requiredKeys: [] },
  )
  .map((n) => JSON.stringify({ network: n }));
const body = fc.oneof(
  { weight: 2, arbitrary: validish },
  { weight: 4, arbitrary: resourceBody.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: deepJson },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  // JSON.stringify({ network: { name: 'x'.repeat(n) } }), without scanning a megabyte for characters to escape.
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2_000_000 }).map((n) => `{"network":{"name":"${'x'.repeat(n)}"}}`) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const query = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'fields',
        'sort_key',
        'sort_dir',
        'limit',
        'marker',
        'page_reverse',
        'name',
        'id',
        'network_id',
        'fixed_ips',
        'shared',
        'x',
        '',
        'fields[]',
      ),
      fc.oneof(
        fc.constantFrom('id', 'name', 'asc', 'desc', '1', '-1', '0', 'true', 'ip_address=10.0.0.1', ''),
        fc.string({ maxLength: 8 }),
      ),
    ),
    { maxLength: 5 },
  )
  .map((kv) => (kv.length === 0 ? '' : `?${kv.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`));
const path = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...COLLECTIONS),
        fc.option(fc.oneof(fc.uuid(), fc.string({ maxLength: 10 }).map(encodeURIComponent))),
        fc.option(fc.constantFrom(...ACTIONS)),
        fc.boolean(),
      )
      .map(
        ([c, id, a, json]) => `/v2.0/${c}${id === null ? '' : `/${id}`}${a === null || id === null ? '' : `/${a}`}${json ? '.json' : ''}`,
      ),
  },
  { weight: 2, arbitrary: fc.constantFrom('/v3', '/v3/', '/v3/auth/tokens', '/v2.0/tokens', '/', '/v2.0', '/v3/users', '/v2.0/../v3') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `/${encodeURIComponent(s)}`) },
);
const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'GET', 'POST', 'PUT', 'HEAD', 'PATCH', 'OPTIONS'),
  url: fc.oneof(
    { weight: 6, arbitrary: fc.tuple(path, query).map(([p, q]) => p + q) },
    { weight: 1, arbitrary: fc.constant('/v2.0/networks') },
  ),
  token: fc.oneof(
    { weight: 6, arbitrary: fc.constant('admin') },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).filter((s) => /^[\x21-\x7e]*$/.test(s)) },
  ),
  subject: fc.option(fc.constantFrom('admin', 'junk')),
  contentType: fc.constantFrom(
    'application/json',
    'application/json',
    'text/plain',
    'application/json; charset=utf-8',
    undefined,
    'multipart/form-data',
    'application/x-www-form-urlencoded',
  ),
  body,
});

test(
  'fuzz: the Neutron API and Keystone answer every request with a 2xx or a 4xx and their error body',
  { timeout: fuzzTimeoutMs(3_000, 50) },
  async () => {
    const app = server!.app;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    after(() => agent.destroy());
    const statuses = new Set<number>();
    await fuzz(
      'neutron-keystone-api',
      request,
      async (r, worker) => {
        const headers: Record<string, string> = {};
        if (r.token !== undefined) headers['x-auth-token'] = r.token === 'admin' ? adminToken : r.token;
        // The admin token is not given to a DELETE as its subject: revoking it would turn the rest of the run into 401s.
        if (r.subject !== null) headers['x-subject-token'] = r.subject === 'admin' && r.method !== 'DELETE' ? adminToken : 'junk';
        if (r.contentType !== undefined) headers['content-type'] = r.contentType;
        let res: { statusCode: number; body: string };
        if (worker === 0) {
          try {
            res = await overSocket(agent, server!.port, { method: r.method, url: r.url, headers, body: r.body });
          } catch (e) {
            // Node's server answers a body over the limit with 413 and may close before it has all been sent.
            if (r.body !== undefined && Buffer.byteLength(r.body) > BODY_LIMIT) return;
            throw new FuzzFailure(`${r.method} ${r.url} over the socket: ${String(e)}`);
          }
        } else {
          res = await app.inject({
            method: r.method as 'GET',
            url: r.url,
            headers,
            ...(r.body === undefined ? {} : { payload: r.body }),
          });
        }
        statuses.add(res.statusCode);
        const what = `${r.method} ${r.url} → ${res.statusCode} ${res.body.slice(0, 300)}`;
        if (res.statusCode >= 500) throw new FuzzFailure(what);
        if (res.statusCode < 400 || r.method === 'HEAD') return;
        let doc: unknown;
        try {
          doc = JSON.parse(res.body);
        } catch {
          throw new FuzzFailure(`error body is not JSON: ${what}`);
        }
        const o = doc as Record<string, { message?: unknown } | undefined>;
        const message = o['NeutronError']?.message ?? o['error']?.message;
        if (typeof message !== 'string') throw new FuzzFailure(`no NeutronError or Keystone error body: ${what}`);
      },
      { smokeRuns: 3_000, hangMs: 5_000, concurrency: CONCURRENCY },
    );
    // The inputs reached every kind of answer: made, listed, refused, unknown, unauthenticated.
    if (process.env['FUZZ_PATH'] === undefined)
      for (const s of [200, 201, 400, 401, 404]) assert.ok(statuses.has(s), `some ${s}: ${[...statuses].join(' ')}`);
    // Still serving.
    const r = await app.inject({ method: 'GET', url: '/v2.0/networks', headers: { 'x-auth-token': adminToken } });
    assert.equal(r.statusCode, 200);
  },
);
