/**
 * Seed 004's underlay mode with Keystone, command for command: the central
 * node is `ovnts up --listen=IP --ipam-users=FILE` (its IPAM with
 * Keystone auth, as `ovnts ipam --auth=keystone --users=FILE`); inside the VM,
 * ovn-container reads the openrc variables — the seed's era (OS_AUTH_URL
 * …/v2.0, OS_USERNAME, OS_PASSWORD, OS_TENANT_ID) and today's v3 file
 * (OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_ID) — plus
 * OS_VIF_ID, and creates the container ports with binding:profile
 * {parent_name: $OS_VIF_ID, tag} in the tenant's project. The containers get
 * their addresses, reach vm6 on the other hypervisor and each other.
 *
 * Refusals, each with exit status 1 and nothing left behind (no VLAN held on
 * breth0, no Neutron port): a wrong password ("Failed to authenticate with
 * keystone" and Keystone's 401 message); a missing OS_PASSWORD; a project
 * member without the admin role, whom Neutron's policy refuses
 * binding:profile (create_port:binding:profile is admin-only in Neutron Zed,
 * neutron/conf/policies/port.py) — ovn-container gives its VLAN back and says
 * which role is missing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, tmpDir, type RunResult } from '../helpers/proc.js';
import { okLines, OVN_CONTAINER } from '../helpers/containers.js';
import { assertVmClean, CENTRAL_IP, twoContainersTalk, prepareVm, startUnderlayWorld, type UnderlayWorld } from '../helpers/underlay-vm.js';

const DEMO = 'b7f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5';
const USERS = {
  projects: [{ name: 'admin' }, { name: 'demo', id: DEMO }],
  users: [
    { name: 'admin', password: 'adminpw', roles: { admin: ['admin'] } },
    // The VM's owner: binding:profile needs the admin role in the project (Neutron's default policy).
    { name: 'vmowner', password: 'vmownerpw', roles: { demo: ['admin'] } },
    { name: 'alice', password: 'alicepw', roles: { demo: ['member'] } },
  ],
};

let w: UnderlayWorld;

before(async () => {
  w = await startUnderlayWorld(tmpDir('ovnts-underlay-ks').path, {
    users: USERS,
    admin: { user: 'admin', password: 'adminpw', project: 'admin' },
    project: DEMO,
  });
  await prepareVm(w);
});

after(async () => {
  await w?.stop();
  await cleanupAll();
});

/** The seed's openrc (Keystone v2.0 era) with OS_VIF_ID appended, for `user`. */
function seedOpenrc(user: string, password: string): Record<string, string> {
  return {
    ...w.vmBaseEnv,
    OS_AUTH_URL: `http://${CENTRAL_IP}:9696/v2.0`,
    OS_USERNAME: user,
    OS_PASSWORD: password,
    OS_TENANT_ID: DEMO,
    OS_TENANT_NAME: 'demo',
    OS_VIF_ID: w.vm5.id,
  };
}

/** A Keystone v3 openrc file as Horizon writes it today, with OS_VIF_ID appended. */
function v3Openrc(user: string, password: string): Record<string, string> {
  return {
    ...w.vmBaseEnv,
    OS_AUTH_URL: `http://${CENTRAL_IP}:9696/v3`,
    OS_IDENTITY_API_VERSION: '3',
    OS_USERNAME: user,
    OS_PASSWORD: password,
    OS_PROJECT_NAME: 'demo',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_ID: 'default',
    OS_VIF_ID: w.vm5.id,
  };
}

const container = (env: Record<string, string>, ...args: string[]): Promise<RunResult> => w.inVm(OVN_CONTAINER, args, env);

/** What a refused command may not change: breth0's external_ids and ports, and the Neutron ports. */
async function snapshot(): Promise<string> {
  const ports = (await w.central.neutronList('ports')).map((p) => String(p['id'])).sort();
  return JSON.stringify([await w.vmOvs.vsctl('br-get-external-id', 'breth0'), await w.vmOvs.vsctl('list-ports', 'breth0'), ports]);
}

function refused(r: RunResult, stderr: RegExp, what: string): void {
  assert.equal(r.code, 1, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, stderr, what);
}

test(
  'seed 004 underlay with Keystone: the openrc user creates nested ports; containers reach vm6 and each other',
  { timeout: 600_000 },
  async () => {
    try {
      const owner = seedOpenrc('vmowner', 'vmownerpw');
      const c1 = okLines(await container(owner, 'endpoint-create', 'dmz', 'c1'), 'endpoint-create c1 (v2.0 openrc)').pop()!;
      const c2 = okLines(
        await container(v3Openrc('vmowner', 'vmownerpw'), 'endpoint-create', 'dmz', 'c2'),
        'endpoint-create c2 (v3 openrc)',
      ).pop()!;
      const tags = [];
      for (const ep of [c1, c2]) {
        tags.push((await w.vmOvs.vsctl('br-get-external-id', 'breth0', `${ep}_vlan`)).trim());
        assert.equal((await w.central.nbctl('get', 'Logical_Switch_Port', ep, 'parent_name')).trim(), `"${w.vm5.id}"`);
        // The port belongs to the openrc's project, not to the admin's.
        assert.equal((await w.central.nbctl('get', 'Logical_Switch_Port', ep, 'external_ids:"neutron:project_id"')).trim(), DEMO);
      }
      assert.deepEqual(tags, ['1', '2']);
      assert.equal((await w.central.nbctl('lsp-get-tag', c1)).trim(), '1');
      assert.equal((await w.central.nbctl('lsp-get-tag', c2)).trim(), '2');

      const ips = await twoContainersTalk(w, (...args) => container(owner, ...args), ['c1', 'c2'], [c1, c2]);
      const fixed = await Promise.all(
        [c1, c2].map(async (ep) => {
          const p = (await w.central.neutronList('ports')).find((x) => x['id'] === ep)!;
          return (p['fixed_ips'] as Array<{ ip_address: string }>)[0]!.ip_address;
        }),
      );
      assert.deepEqual(ips, fixed, "the containers have their ports' addresses");

      // Refusals leave everything as it was; c1 and c2 stay.
      const before = await snapshot();
      refused(
        await container(seedOpenrc('vmowner', 'wrong'), 'endpoint-create', 'dmz', 'c3'),
        /^Failed to authenticate with keystone\. \n \(The request you have made requires authentication\.\)\n$/,
        'a wrong password',
      );
      refused(
        await container(v3Openrc('vmowner', 'wrong'), 'net-list'),
        /^Failed to authenticate with keystone\. \n \(The request you have made requires authentication\.\)\n$/,
        'a wrong password (v3)',
      );
      const { OS_PASSWORD: _, ...noPassword } = seedOpenrc('vmowner', '');
      refused(await container(noPassword, 'endpoint-create', 'dmz', 'c3'), /^env OS_PASSWORD not set\n$/, 'no OS_PASSWORD');
      const member = await container(seedOpenrc('alice', 'alicepw'), 'endpoint-create', 'dmz', 'c3');
      refused(
        member,
        /^Failed in neutron api call\. \n \(\(rule:create_port and rule:create_port:binding:profile\) is disallowed by policy\)\nbinding:profile \{parent_name, tag\} needs the admin role; user alice lacks it in this project/,
        'a member sets binding:profile',
      );
      assert.equal(member.stdout, 'creating neutron port.\n');
      assert.equal(await snapshot(), before, 'the refusals left nothing behind and took nothing away');

      // The member still reads the project's networks: only binding:profile is the admin's.
      const list = okLines(await container(seedOpenrc('alice', 'alicepw'), 'net-list'), 'net-list as a member');
      assert.ok(
        list.some((l) => l.includes(w.netId)),
        list.join('\n'),
      );

      for (const name of ['c1', 'c2'])
        assert.deepEqual(okLines(await container(owner, 'endpoint-delete', name), `endpoint-delete ${name}`), ['deleted neutron port']);
      await assertVmClean(w);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nlog:\n${w.logTail(30)}`);
    }
  },
);
