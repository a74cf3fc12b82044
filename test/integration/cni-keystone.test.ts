/**
 * ovnts-cni with Keystone credentials in its configuration, against a second
 * IPAM process on the same NB (`ovnts ipam --auth=keystone`; the IPAM keeps
 * no state of its own): ADD gets a token for the configured project and the
 * port is that project's; the container's port is installed and DEL removes
 * it; a wrong password is an IPAM failure in Keystone's words.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns } from '../helpers/netns.js';
import { cleanupAll, spawnDaemon, type Daemon } from '../helpers/proc.js';
import { startCniWorld, type CniWorld } from '../helpers/cni.js';
import { servedPort } from '../helpers/keystone-env.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { NeutronClient } from '../../src/host/neutron.js';

const DEMO = 'b7f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5';
const USERS = {
  projects: [{ name: 'admin' }, { name: 'demo', id: DEMO }],
  users: [{ name: 'alice', password: 'alicepw', roles: { demo: ['member'] } }],
};

let w: CniWorld;
let ipam: Daemon;
let url = '';

before(async () => {
  w = await startCniWorld();
  const usersFile = join(w.dir, 'users.json');
  writeFileSync(usersFile, JSON.stringify(USERS));
  let port: string | undefined;
  ipam = await spawnDaemon(
    OVNTS,
    ['ipam', '--listen=127.0.0.1:0', `--ovnnb-db=unix:${join(w.dir, 'run', 'ovnnb_db.sock')}`, '--auth=keystone', `--users=${usersFile}`],
    {
      name: 'ovnts ipam (keystone)',
      onLine: (l) => (port ??= servedPort(l)),
      readyWhen: async () => port !== undefined,
    },
  );
  url = `http://127.0.0.1:${port!}`;
});

after(async () => {
  await ipam?.stop();
  await w?.stop();
  await cleanupAll();
});

test(
  'keystone credentials in the conflist: the port belongs to the project; a wrong password is refused',
  { timeout: 120_000 },
  async () => {
    const alice = await NeutronClient.keystone({ authUrl: `${url}/v3`, username: 'alice', password: 'alicepw', tenantId: DEMO }, url);
    const net = await alice.createNetwork(`${w.id}-ks`);
    await alice.createSubnet(net.id, `${w.id}-ks-sub`, '198.51.100.0/24');
    const auth = { auth_url: `${url}/v3`, username: 'alice', password: 'alicepw', project_id: DEMO };
    const conf = { cniVersion: '1.0.0', name: `${w.id}-ks`, type: 'ovnts-cni', ...w.base, endpoint: url, network: `${w.id}-ks`, auth };
    const ns = await createNetns(`${w.id}-ks`);
    const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'ks1', CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0' };
    const add = await w.exec(env, conf);
    assert.equal(add.code, 0, add.stdout);
    const ports = (await alice.listPorts({ device_id: 'ks1' })) as Array<{ id: string; tenant_id?: string; project_id?: string }>;
    assert.equal(ports.length, 1);
    assert.equal(ports[0]!.project_id ?? ports[0]!.tenant_id, DEMO);
    assert.equal(
      (
        await w.ovs.vsctl(
          'get',
          'Interface',
          (JSON.parse(add.stdout) as { interfaces: Array<{ name: string }> }).interfaces[0]!.name,
          'external_ids:ovn-installed',
        )
      ).trim(),
      '"true"',
    );
    const bad = await w.exec({ ...env, CNI_CONTAINERID: 'ks2' }, { ...conf, auth: { ...auth, password: 'wrong' } });
    assert.equal(bad.code, 1);
    const err = JSON.parse(bad.stdout) as { code: number; msg: string };
    assert.equal(err.code, 101);
    assert.match(err.msg, /IPAM: The request you have made requires authentication/);
    const del = await w.exec({ ...env, CNI_COMMAND: 'DEL' }, conf);
    assert.equal(del.code, 0, del.stdout);
    assert.deepEqual(await alice.listPorts({ device_id: 'ks1' }), []);
  },
);
