/**
 * ovn-container's Keystone login (NeutronClient.keystone) with every kind of
 * openrc file, against the IPAM's Keystone subset: seed 004's v2.0 one
 * (OS_TENANT_ID, or OS_TENANT_NAME) and today's v3 one (project by id, or by
 * name with its domain by id or name; the user's domain by id or name). A
 * probe under /v2.0 answers with the project the token is scoped to, as a
 * network list, so each login shows where it landed; wrong names fail with
 * Keystone's 401 message.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { createKeystoneAuthenticator, parseDirectory } from '../../src/ipam/keystone/index.js';
import { derivedId } from '../../src/ipam/keystone/users.js';
import { NeutronClient, NeutronError, type KeystoneCredentials } from '../../src/host/neutron.js';

const DEMO_ID = 'b7f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5';
const USERS = {
  projects: [{ name: 'admin' }, { name: 'demo', id: DEMO_ID }, { name: 'other' }],
  users: [{ name: 'vmowner', password: 'pw', roles: { demo: ['admin'], other: ['member'] } }],
};

async function serve(): Promise<string> {
  const auth = createKeystoneAuthenticator({ users: parseDirectory(USERS) });
  const app = Fastify();
  await auth.register(app);
  app.get('/v2.0/networks', async (request) => {
    const ctx = auth.authenticate(request.headers);
    return { networks: 'projectId' in ctx ? [{ id: ctx.projectId, name: ctx.roles.join(','), subnets: [] }] : [] };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  after(() => app.close());
  const addr = app.server.address();
  assert.ok(addr !== null && typeof addr === 'object');
  return `http://127.0.0.1:${addr.port}`;
}

/** The project a login's token is scoped to, as the probe reports it. */
async function scopedTo(c: KeystoneCredentials): Promise<string | undefined> {
  const client = await NeutronClient.keystone(c);
  return (await client.listNetworks())[0]?.id;
}

test('every openrc kind logs in to its project; wrong names get Keystone 401', async () => {
  const url = await serve();
  const base = { username: 'vmowner', password: 'pw' };
  const OTHER_ID = derivedId('project', 'other');
  // Seed 004's v2.0 openrc.
  assert.equal(await scopedTo({ ...base, authUrl: `${url}/v2.0`, tenantId: DEMO_ID }), DEMO_ID);
  assert.equal(await scopedTo({ ...base, authUrl: `${url}/v2.0`, tenantId: '', tenantName: 'other' }), OTHER_ID);
  // v3: by id, by name in the default domain, with the domains named.
  assert.equal(await scopedTo({ ...base, authUrl: `${url}/v3`, tenantId: OTHER_ID }), OTHER_ID);
  assert.equal(await scopedTo({ ...base, authUrl: url, tenantId: '', tenantName: 'demo' }), DEMO_ID);
  assert.equal(
    await scopedTo({
      ...base,
      authUrl: `${url}/v3/`,
      tenantId: '',
      tenantName: 'demo',
      userDomainName: 'Default',
      projectDomainName: 'Default',
    }),
    DEMO_ID,
  );
  assert.equal(
    await scopedTo({ ...base, authUrl: `${url}/v3`, tenantId: '', tenantName: 'other', userDomain: 'default', projectDomain: 'default' }),
    OTHER_ID,
  );
  // A project the user has no role in, an unknown domain, a wrong password: 401 with Keystone's words.
  for (const bad of [
    { ...base, authUrl: `${url}/v3`, tenantId: '', tenantName: 'admin' },
    { ...base, authUrl: `${url}/v3`, tenantId: '', tenantName: 'demo', projectDomainName: 'Elsewhere' },
    { ...base, authUrl: `${url}/v3`, tenantId: DEMO_ID, userDomainName: 'Elsewhere' },
    { ...base, password: 'nope', authUrl: `${url}/v2.0`, tenantId: DEMO_ID },
  ]) {
    await assert.rejects(NeutronClient.keystone(bad), (e: unknown) => {
      assert.ok(e instanceof NeutronError, String(e));
      assert.equal(e.status, 401, JSON.stringify(bad));
      assert.equal(e.message, 'The request you have made requires authentication.');
      return true;
    });
  }
});
