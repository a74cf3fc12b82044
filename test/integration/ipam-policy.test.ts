/**
 * The server honours the request context its Authenticator gives: a project
 * sees only its own resources (another's are 404, as Neutron answers),
 * resources belong to the caller's project (an admin may name another), and
 * binding:profile needs the admin role (403 PolicyNotAuthorized). The
 * authenticator here maps the X-Auth-Token header to fixed contexts; the
 * Keystone one (src/ipam/keystone/) plugs into the same seam.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/ovsdb-servers.js';
import { createIpamServer, type Authenticator, type IpamServer, type RequestContext } from '../../src/ipam/index.js';

type Body = Record<string, unknown>;

const CONTEXTS: Record<string, RequestContext> = {
  alice: { projectId: 'p-alice', userId: 'alice', roles: ['member'], isAdmin: false },
  bob: { projectId: 'p-bob', userId: 'bob', roles: ['member'], isAdmin: false },
  root: { projectId: 'p-admin', userId: 'root', roles: ['admin'], isAdmin: true },
};

const tokens: Authenticator = {
  kind: 'test-tokens',
  register: () => {},
  authenticate: (headers) =>
    CONTEXTS[String(headers['x-auth-token'])] ?? { status: 401, message: 'The request you have made requires authentication.' },
};

describe('ovnts ipam: request context and policy', () => {
  let nb: RunningServer & { cleanup(): Promise<void> };
  let s: IpamServer;
  const call = async (who: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> => {
    const r = await fetch(`http://127.0.0.1:${s.port}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-auth-token': who },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, body: text === '' ? {} : (JSON.parse(text) as Body) };
  };

  before(async () => {
    nb = await startServer('ovnts');
    s = createIpamServer({ port: 0, nbRemotes: nb.remote, authenticator: tokens });
    await s.start();
  });
  after(async () => {
    await s?.stop();
    await nb?.cleanup();
  });

  it('answers 401 without a valid token, and serves GET / without one', async () => {
    const r = await call('mallory', 'GET', '/v2.0/networks');
    assert.equal(r.status, 401);
    assert.equal((await fetch(`http://127.0.0.1:${s.port}/`)).status, 200);
  });

  it("keeps projects apart: another project's network is not found", async () => {
    const a = await call('alice', 'POST', '/v2.0/networks', { network: { name: 'a-net' } });
    assert.equal(a.status, 201);
    const net = a.body['network'] as Body;
    assert.equal(net['project_id'], 'p-alice');
    assert.equal(net['tenant_id'], 'p-alice');
    const id = net['id'] as string;
    assert.deepEqual(await call('bob', 'GET', `/v2.0/networks/${id}`), {
      status: 404,
      body: { NeutronError: { type: 'NetworkNotFound', message: `Network ${id} could not be found.`, detail: '' } },
    });
    assert.deepEqual((await call('bob', 'GET', '/v2.0/networks')).body, { networks: [] });
    assert.equal((await call('bob', 'DELETE', `/v2.0/networks/${id}`)).status, 404);
    assert.equal((await call('bob', 'POST', '/v2.0/ports', { port: { network_id: id } })).status, 404);
    assert.equal(((await call('root', 'GET', '/v2.0/networks')).body['networks'] as unknown[]).length, 1);
    const forBob = await call('alice', 'POST', '/v2.0/networks', { network: { name: 'x', project_id: 'p-bob' } });
    assert.equal(forBob.status, 400);
    const byAdmin = await call('root', 'POST', '/v2.0/networks', { network: { name: 'b-net', tenant_id: 'p-bob' } });
    assert.equal((byAdmin.body['network'] as Body)['project_id'], 'p-bob');
    assert.deepEqual((await call('bob', 'GET', '/v2.0/networks?fields=name')).body['networks'], [{ name: 'b-net' }]);
  });

  it('lets only admins set binding:profile (403 PolicyNotAuthorized)', async () => {
    const net = ((await call('alice', 'GET', '/v2.0/networks')).body['networks'] as Body[])[0]?.['id'] as string;
    await call('alice', 'POST', '/v2.0/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '10.3.0.0/24' } });
    const vm = ((await call('alice', 'POST', '/v2.0/ports', { port: { network_id: net } })).body['port'] as Body)['id'] as string;
    const r = await call('alice', 'POST', '/v2.0/ports', { port: { network_id: net, 'binding:profile': { parent_name: vm, tag: 5 } } });
    assert.equal(r.status, 403);
    assert.deepEqual(r.body, {
      NeutronError: {
        type: 'PolicyNotAuthorized',
        message: '(rule:create_port and rule:create_port:binding:profile) is disallowed by policy',
        detail: '',
      },
    });
    const u = await call('alice', 'PUT', `/v2.0/ports/${vm}`, { port: { 'binding:profile': {} } });
    assert.equal(u.status, 403);
    const ok = await call('root', 'POST', '/v2.0/ports', { port: { network_id: net, 'binding:profile': { parent_name: vm, tag: 5 } } });
    assert.equal(ok.status, 201);
    // The admin created it in its own project: alice does not see it.
    assert.equal(((await call('alice', 'GET', `/v2.0/ports?network_id=${net}`)).body['ports'] as unknown[]).length, 1);
  });
});
