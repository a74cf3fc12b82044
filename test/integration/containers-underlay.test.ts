/**
 * Seed 004, underlay mode, command for command: containers inside a VM.
 * The VM is a namespace with its own OVS whose eth0's peer sits on the
 * hypervisor's br-int with iface-id = the VM's Neutron port; a second
 * hypervisor has a plain VM port. Inside the VM: `ovn-integrate
 * nics-to-bridge eth0` (the VM keeps its connectivity), `ovn-container init
 * --bridge breth0 --underlay-mode`, endpoint-create (ports with
 * binding:profile {parent_name: $OS_VIF_ID, tag}) and container-create
 * (VLAN access ports of breth0); the hypervisor's `ovnts controller` strips
 * and pushes the tags. The containers get their addresses, reach the VM
 * port on the other hypervisor and each other; then 20 concurrent
 * endpoint-create + container-create get unique VLANs and addresses and are
 * all removed cleanly.
 *
 * The world is test/helpers/underlay-vm.ts's. Authentication: noauth with
 * OS_VIF_ID (OS_AUTH_STRATEGY=noauth); the Keystone openrc is in
 * containers-underlay-keystone.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, run, runOk, tmpDir, waitFor, type RunResult } from '../helpers/proc.js';
import { okLines, OVN_CONTAINER, OVN_INTEGRATE } from '../helpers/containers.js';
import {
  appPings,
  assertVmClean,
  CENTRAL_IP,
  NETWORK_IMAGE,
  startUnderlayWorld,
  twoContainersTalk,
  type UnderlayWorld,
} from '../helpers/underlay-vm.js';

const CONCURRENT = 20;

let w: UnderlayWorld;
let vmEnv: Record<string, string>;
/** A tool inside the VM (nsenter --net, the VM's OVS, the openrc variables). */
const inVm = (cmd: string, args: readonly string[]): Promise<RunResult> => w.inVm(cmd, args, vmEnv);
const container = (...a: string[]): Promise<RunResult> => inVm(OVN_CONTAINER, a);

before(async () => {
  w = await startUnderlayWorld(tmpDir('ovnts-underlay').path);
  vmEnv = { ...w.vmBaseEnv, OS_VIF_ID: w.vm5.id, OS_AUTH_STRATEGY: 'noauth', OS_TENANT_ID: 'admin' };
});

after(async () => {
  await w?.stop();
  await cleanupAll();
});

const vmPing = (dest: string): Promise<RunResult> => run('ip', ['netns', 'exec', w.vmNs, 'ping', '-c', '2', '-i', '0.2', '-W', '2', dest]);

test(
  'seed 004 underlay: nics-to-bridge keeps the VM connected; containers on VLANs reach a VM on another host and each other',
  { timeout: 600_000 },
  async () => {
    try {
      assert.equal((await vmPing(w.vm6.ip)).code, 0, 'the VM reaches vm6 before');
      assert.deepEqual(okLines(await inVm(OVN_INTEGRATE, ['nics-to-bridge', 'eth0']), 'nics-to-bridge'), [
        'successfully created OVS bridge breth0.',
      ]);
      assert.match(
        await runOk('ip', ['-n', w.vmNs, '-o', '-4', 'addr', 'show', 'dev', 'breth0']),
        new RegExp(`inet ${w.vm5.ip.replace(/\./g, '\\.')}/26`),
      );
      assert.equal((await runOk('ip', ['-n', w.vmNs, '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).trim(), '');
      await waitFor(async () => (await vmPing(w.vm6.ip)).code === 0, {
        what: 'the VM reaches vm6 through breth0',
        timeoutMs: 30_000,
      }).catch(async (e: Error) => {
        const dump = await Promise.all([
          runOk('ip', ['-n', w.vmNs, 'addr']),
          runOk('ip', ['-n', w.vmNs, 'route']),
          runOk('ip', ['-n', w.vmNs, 'neigh']),
          w.vmOvs.vsctl('show'),
          w.vmOvs.ofctl('dump-flows', 'breth0'),
          w.vmOvs.appctl('fdb/show', 'breth0'),
        ]);
        throw new Error(`${e.message}\nvm5 ${w.vm5.mac} ${w.vm5.ip}\n${dump.join('\n')}`);
      });
      okLines(await inVm(OVN_INTEGRATE, ['set-ipam', CENTRAL_IP]), 'set-ipam');
      okLines(await container('init', '--bridge', 'breth0', '--underlay-mode'), 'init');

      const eps: string[] = [];
      for (const name of ['c51', 'c52'])
        eps.push(okLines(await container('endpoint-create', 'dmz', name), `endpoint-create ${name}`).pop()!);
      const vlans = eps.map(async (ep) => (await w.vmOvs.vsctl('br-get-external-id', 'breth0', `${ep}_vlan`)).trim());
      const tags = await Promise.all(vlans);
      assert.deepEqual(tags, ['1', '2']);
      for (const [i, ep] of eps.entries()) {
        assert.equal((await w.central.nbctl('get', 'Logical_Switch_Port', ep, 'parent_name')).trim(), `"${w.vm5.id}"`);
        assert.equal((await w.central.nbctl('lsp-get-tag', ep)).trim(), tags[i]);
      }
      await twoContainersTalk(w, container, ['c51', 'c52'], eps as [string, string]);
      for (const name of ['c51', 'c52'])
        assert.deepEqual(okLines(await container('endpoint-delete', name), 'endpoint-delete'), ['deleted neutron port']);
      await assertVmClean(w);
      assert.equal((await vmPing(w.vm6.ip)).code, 0, 'the VM still reaches vm6');
    } catch (e) {
      throw new Error(`${(e as Error).message}\nlog:\n${w.logTail(30)}`);
    }
  },
);

test(
  `${CONCURRENT} concurrent endpoint-create + container-create in one VM: unique VLANs and addresses, all removed cleanly`,
  { timeout: 600_000 },
  async () => {
    const names = Array.from({ length: CONCURRENT }, (_, i) => `cc${i}`);
    const results = await Promise.all(
      names.map(async (name) => {
        const ep = okLines(await container('endpoint-create', 'dmz', name), `endpoint-create ${name}`).pop()!;
        const nc = okLines(await container('container-create', `--network=${name}`), `container-create ${name}`).pop()!;
        return { name, ep, nc };
      }),
    );
    const ids = new Map(
      (await w.vmOvs.vsctl('br-get-external-id', 'breth0'))
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    const tags = results.map((r) => ids.get(`${r.ep}_vlan`));
    assert.equal(new Set(tags).size, CONCURRENT, `unique VLANs: ${tags.join(',')}`);
    assert.deepEqual(
      ids
        .get('vlans')!
        .split(',')
        .map(Number)
        .sort((a, b) => a - b),
      tags.map(Number).sort((a, b) => a - b),
    );
    const addrs = results.map((r) => ids.get(`${r.ep}_ip`));
    assert.equal(new Set(addrs).size, CONCURRENT, `unique addresses: ${addrs.join(',')}`);
    const used = ids.get('endpoint-usage')!.split(',');
    assert.equal(used.length, CONCURRENT);
    for (const r of results) {
      assert.equal((await w.central.nbctl('lsp-get-tag', r.ep)).trim(), ids.get(`${r.ep}_vlan`));
      assert.ok(used.includes(`${r.ep}:${r.nc}`));
    }
    // A sample talks across its VLAN to vm6 on the other hypervisor.
    const app = (
      await w.dockerd.docker('run', '-d', `--net=container:${results[CONCURRENT - 1]!.nc}`, NETWORK_IMAGE, 'sleep', '600')
    ).trim();
    await appPings(w, app, w.vm6.ip);
    await w.dockerd.docker('rm', '-f', app);
    await Promise.all(results.map(async (r) => okLines(await container('endpoint-delete', r.name), `endpoint-delete ${r.name}`)));
    await assertVmClean(w);
  },
);
