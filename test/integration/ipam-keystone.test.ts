/**
 * `ovnts ipam --auth=keystone --users=FILE` with the real clients' password
 * auth: the openstack CLI (keystoneauth1 v3) per user — a member cannot set
 * binding:profile (403 PolicyNotAuthorized), one project cannot see another's
 * networks (not listed, and "No Network found" for its id), the admin sees
 * everything; an expired and a forged token get keystonemiddleware's 401 on
 * the Neutron API; and seed 004's underlay environment (OS_USERNAME,
 * OS_PASSWORD, OS_TENANT_ID, OS_AUTH_URL) with python-neutronclient's keystone
 * client, as ovn-container builds it, creates a container port with
 * binding:profile on the VM's port.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupAll, run, runOk, spawnDaemon, tmpDir, type Daemon } from '../helpers/proc.js';
import { NB_SCHEMA, OVNTS, startServer } from '../helpers/ovsdb-servers.js';
import { passwordAuthEnv, servedPort } from '../helpers/keystone-env.js';

after(cleanupAll);

const DEMO = 'b7f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5';
const OTHER = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const TOKEN_SECONDS = 6;
const KSM_401 = '{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}';

const USERS = {
  projects: [{ name: 'admin' }, { name: 'demo', id: DEMO }, { name: 'other', id: OTHER }],
  users: [
    { name: 'admin', password: 'adminpw', roles: { admin: ['admin'] } },
    { name: 'alice', password: 'alicepw', roles: { demo: ['member'] } },
    { name: 'bob', password: 'bobpw', roles: { other: ['member'] } },
    // Seed 004's underlay user: binding:profile needs the admin role (Neutron's default policy).
    { name: 'vmowner', password: 'vmownerpw', roles: { demo: ['admin'] } },
  ],
};

test(
  'keystone auth with the real clients: policy, project isolation, expired and forged tokens, seed 004 underlay',
  { timeout: 300_000 },
  async () => {
    const dir = tmpDir('ovnts-ipam-ks').path;
    const usersFile = join(dir, 'users.json');
    writeFileSync(usersFile, JSON.stringify(USERS));
    const nb = await startServer('ovnts', [NB_SCHEMA]);
    after(() => nb.cleanup());
    let port: string | undefined;
    const ipam: Daemon = await spawnDaemon(
      OVNTS,
      [
        'ipam',
        '--listen=127.0.0.1:0',
        `--ovnnb-db=${nb.remote}`,
        '--auth=keystone',
        `--users=${usersFile}`,
        `--token-expiration=${TOKEN_SECONDS}`,
        `--unixctl=${join(dir, 'ipam.ctl')}`,
      ],
      { name: 'ovnts ipam', onLine: (l) => (port ??= servedPort(l)), readyWhen: async () => port !== undefined },
    );
    const url = `http://127.0.0.1:${port!}`;
    after(() => ipam.stop());

    const as =
      (user: string, password: string, project: string) =>
      async (...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
        run('openstack', args, {
          timeoutMs: 60_000,
          env: passwordAuthEnv(`${url}/v3`, user, password, project),
        });
    const admin = as('admin', 'adminpw', 'admin');
    const alice = as('alice', 'alicepw', 'demo');
    const bob = as('bob', 'bobpw', 'other');
    const ok = async (r: Promise<{ code: number | null; stdout: string; stderr: string }>): Promise<Record<string, unknown>> => {
      const x = await r;
      assert.equal(x.code, 0, x.stderr);
      return JSON.parse(x.stdout) as Record<string, unknown>;
    };

    // Each project creates a network; it is owned by the token's project.
    const demoNet = await ok(alice('network', 'create', 'demo-net', '-f', 'json'));
    assert.equal(demoNet['project_id'], DEMO);
    const otherNet = await ok(bob('network', 'create', 'other-net', '-f', 'json'));
    assert.equal(otherNet['project_id'], OTHER);
    await ok(alice('subnet', 'create', '--network', 'demo-net', '--subnet-range', '198.51.100.0/24', 'demo-sub', '-f', 'json'));

    // One project does not see the other's network: not listed, and not found by id.
    const names = async (who: typeof alice): Promise<string[]> =>
      ((await ok(who('network', 'list', '-f', 'json'))) as unknown as { Name: string }[]).map((n) => n.Name).sort();
    assert.deepEqual(await names(alice), ['demo-net']);
    assert.deepEqual(await names(bob), ['other-net']);
    const hidden = await bob('network', 'show', String(demoNet['id']));
    assert.equal(hidden.code, 1);
    assert.match(hidden.stderr, new RegExp(`No Network found for ${String(demoNet['id'])}`));
    // The admin sees everything.
    assert.deepEqual(await names(admin), ['demo-net', 'other-net']);

    // A member can make a plain port, not one with binding:profile (Neutron's default policy: 403).
    const vmPort = await ok(alice('port', 'create', '--network', 'demo-net', 'vm-port', '-f', 'json'));
    const denied = await alice(
      'port',
      'create',
      '--network',
      'demo-net',
      '--binding-profile',
      JSON.stringify({ parent_name: vmPort['id'], tag: 42 }),
      'c42',
    );
    assert.equal(denied.code, 1);
    // openstacksdk has no class of its own for 403: HttpException, with Neutron's PolicyNotAuthorized message.
    assert.match(
      denied.stderr,
      /HttpException: 403: Client Error for url: .*\/v2\.0\/ports, \(rule:create_port and .*rule:create_port:binding:profile\) is disallowed by policy/,
    );

    // Tokens: a forged one and an expired one get keystonemiddleware's 401 on the Neutron API.
    const issued = await ok(alice('token', 'issue', '-f', 'json'));
    const token = String(issued['id']);
    const get = async (tok: string): Promise<{ status: number; text: string; challenge: string | null }> => {
      const res = await fetch(`${url}/v2.0/networks`, { headers: { 'x-auth-token': tok } });
      return { status: res.status, text: await res.text(), challenge: res.headers.get('www-authenticate') };
    };
    assert.equal((await get(token)).status, 200);
    for (const forged of ['forged', `${token.slice(0, -2)}xx`, '']) {
      const r = await get(forged);
      assert.equal(r.status, 401, forged);
      assert.equal(r.text, KSM_401);
      assert.equal(r.challenge, `Keystone uri="${url}/v3"`);
    }
    const expiresAt = Date.parse(String(issued['expires']).replace(/\+0000$/, 'Z'));
    assert.ok(expiresAt - Date.now() <= TOKEN_SECONDS * 1000);
    // The expiry is the barrier itself: wait until the token's own expires_at has passed.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 200));
    const expired = await get(token);
    assert.equal(expired.status, 401);
    assert.equal(expired.text, KSM_401);
    // The CLI with that token, as a client holding it would send it.
    const cli = await run('openstack', ['--os-auth-type', 'admin_token', '--os-token', token, '--os-endpoint', url, 'network', 'list'], {
      timeoutMs: 60_000,
    });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /401/);
    // A wrong password never gets a token.
    const wrong = await as('alice', 'nope', 'demo')('network', 'list');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /The request you have made requires authentication\. \(HTTP 401\)/);

    // Seed 004 underlay: ovn-container's neutronclient, keystone auth from the openrc variables.
    const py = [
      'import os, json',
      'from neutronclient.v2_0 import client',
      "c = client.Client(username=os.environ['OS_USERNAME'], password=os.environ['OS_PASSWORD'], tenant_id=os.environ['OS_TENANT_ID'], auth_url=os.environ['OS_AUTH_URL'], auth_strategy='keystone')",
      "net = c.list_networks(name='demo-net')['networks'][0]['id']",
      "p = c.create_port({'port': {'network_id': net, 'name': 'ctr-endpoint', 'binding:profile': {'parent_name': os.environ['OS_VIF_ID'], 'tag': 42}}})['port']",
      "print(json.dumps({'id': p['id'], 'project_id': p['project_id'], 'profile': p['binding:profile']}))",
    ].join('\n');
    const r = await run('/usr/bin/python3', ['-c', py], {
      timeoutMs: 60_000,
      env: {
        OS_USERNAME: 'vmowner',
        OS_PASSWORD: 'vmownerpw',
        OS_TENANT_ID: DEMO,
        OS_AUTH_URL: `${url}/v2.0`,
        OS_VIF_ID: String(vmPort['id']),
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const child = JSON.parse(r.stdout) as { id: string; project_id: string; profile: { parent_name: string; tag: number } };
    assert.equal(child.project_id, DEMO);
    assert.deepEqual(child.profile, { parent_name: vmPort['id'], tag: 42 });
    // In the NB, as seed 003 reads it back.
    const nbctl = (...a: string[]): Promise<string> => runOk('ovn-nbctl', [`--db=${nb.remote}`, '--timeout=30', ...a]);
    assert.equal((await nbctl('lsp-get-parent', child.id)).trim(), vmPort['id']);
    assert.equal((await nbctl('get', 'Logical_Switch_Port', child.id, 'tag_request')).trim(), '42');
    assert.equal(ipam.running(), true);
  },
);
