/**
 * Two chassis, each an `ovnts controller` on its own userspace OVS in its own
 * namespace, joined by a veth underlay (br-phy with the tunnel IP, as
 * DESIGN.md's recipe), real ovn-northd: a container port nested in a VM port
 * on chassis A (the seed lab's layout: a VM bridge patched to br-int with the
 * VM's iface-id, an untagged access port for the VM and one with tag 51 for
 * the container) pings a VM port on chassis B over Geneve, and back; the same
 * over VXLAN (OVN's VNI carries the datapath and the output port).
 * Addresses are static (the DHCP path is not under test here).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, runId } from '../helpers/netns.js';
import { startOvs, type OvsInstance } from '../helpers/ovs.js';
import { startCentral, setChassisConfig } from '../helpers/chassis.js';
import { startOvntsController } from '../helpers/ovnts-controller.js';
import { cleanupAll, run, runOk, tmpDir, waitFor } from '../helpers/proc.js';

after(cleanupAll);

async function underlay(ovs: OvsInstance, ns: string, dev: string, ip: string): Promise<void> {
  await ovs.vsctl('add-br', 'br-phy', '--', 'set', 'Bridge', 'br-phy', 'datapath_type=netdev');
  await ovs.vsctl('add-port', 'br-phy', dev);
  await runOk('ip', ['-n', ns, 'link', 'set', dev, 'up']);
  await waitFor(async () => (await run('ip', ['-n', ns, 'link', 'show', 'br-phy'])).code === 0, { what: `br-phy in ${ns}` });
  await runOk('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'br-phy']);
  await runOk('ip', ['-n', ns, 'link', 'set', 'br-phy', 'up']);
  await ovs.appctl('ovs/route/add', '192.0.2.0/24', 'br-phy');
}

/** An internal port (on br-int with iface-id, or on another bridge with a VLAN tag), moved into its own namespace. */
async function vif(ovs: OvsInstance, hvNs: string, name: string, mac: string, ns: string, bridge = 'br-int', tag?: number): Promise<void> {
  if (bridge === 'br-int')
    await ovs.vsctl('add-port', 'br-int', name, '--', 'set', 'Interface', name, 'type=internal', `external_ids:iface-id=${name}`);
  else if (tag === undefined) await ovs.vsctl('add-port', bridge, name, '--', 'set', 'Interface', name, 'type=internal');
  else await ovs.vsctl('add-port', bridge, name, `tag=${tag}`, '--', 'set', 'Interface', name, 'type=internal');
  await waitFor(async () => (await run('ip', ['-n', hvNs, 'link', 'show', name])).code === 0, { what: `tap ${name}` });
  await runOk('ip', ['-n', hvNs, 'link', 'set', name, 'address', mac]);
  await runOk('ip', ['-n', hvNs, 'link', 'set', name, 'netns', ns]);
  await runOk('ip', ['-n', ns, 'link', 'set', name, 'up']);
}

for (const encap of ['geneve', 'vxlan'] as const)
  test(`${encap} between two ovnts chassis: a container on A pings a VM port on B`, { timeout: 240_000 }, async () => {
    const tmp = tmpDir(`ovnts-ctl-${encap}`);
    const dir = tmp.path;
    const lines: string[] = [];
    const log = (l: string): void => void lines.push(l);
    const central = await startCentral(dir, { log, ctlTimeoutS: 30 });
    const { dbs, nb } = central;
    const id = runId();
    const nsA = await createNetns(`${id}-a`);
    const nsB = await createNetns(`${id}-b`);
    const vmA = await createNetns(`${id}-vma`);
    const vmB = await createNetns(`${id}-vmb`);
    const ctrNs = await createNetns(`${id}-ctr`);
    await runOk('ip', ['link', 'add', `${id}a`, 'netns', nsA, 'type', 'veth', 'peer', 'name', `${id}b`, 'netns', nsB]);
    const ovsA = await startOvs({ netns: nsA, log });
    const ovsB = await startOvs({ netns: nsB, log });
    const stops: Array<() => Promise<void>> = [];
    try {
      await underlay(ovsA, nsA, `${id}a`, '192.0.2.1');
      await underlay(ovsB, nsB, `${id}b`, '192.0.2.2');
      for (const [ovs, ip, name] of [
        [ovsA, '192.0.2.1', `${id}-hva`],
        [ovsB, '192.0.2.2', `${id}-hvb`],
      ] as const) {
        await setChassisConfig(ovs, { systemId: name, sbRemote: dbs.sbRemote, encapType: encap, encapIp: ip });
        const cdir = join(dir, name);
        mkdirSync(cdir);
        const c = await startOvntsController({ dbs, dir: cdir, log, ovs, systemId: name });
        stops.push(() => c.stop());
      }
      await nb('ls-add', 'sw');
      await nb('lsp-add', 'sw', 'vma', '--', 'lsp-set-addresses', 'vma', '02:00:00:00:00:0a 10.0.0.10');
      await nb('lsp-add', 'sw', 'ctr', 'vma', '51', '--', 'lsp-set-addresses', 'ctr', '02:00:00:00:00:0c 10.0.0.12');
      await nb('lsp-add', 'sw', 'vmb', '--', 'lsp-set-addresses', 'vmb', '02:00:00:00:00:0b 10.0.0.11');
      await waitFor(async () => (await ovsA.vsctl('list-br')).includes('br-int') && (await ovsB.vsctl('list-br')).includes('br-int'), {
        what: 'br-int on both',
      });
      // Chassis A: the VM bridge patched to br-int (the patch port carries the VM's iface-id).
      await ovsA.vsctl('add-br', 'br-vma', '--', 'set', 'Bridge', 'br-vma', 'datapath_type=netdev');
      await ovsA.vsctl('add-port', 'br-vma', 'vma-int', '--', 'set', 'Interface', 'vma-int', 'type=patch', 'options:peer=int-vma');
      await ovsA.vsctl(
        'add-port',
        'br-int',
        'int-vma',
        '--',
        'set',
        'Interface',
        'int-vma',
        'type=patch',
        'options:peer=vma-int',
        'external_ids:iface-id=vma',
      );
      await vif(ovsA, nsA, 'vma', '02:00:00:00:00:0a', vmA, 'br-vma');
      await vif(ovsA, nsA, 'ctr', '02:00:00:00:00:0c', ctrNs, 'br-vma', 51);
      await vif(ovsB, nsB, 'vmb', '02:00:00:00:00:0b', vmB);
      await runOk('ip', ['-n', vmA, 'addr', 'add', '10.0.0.10/24', 'dev', 'vma']);
      await runOk('ip', ['-n', ctrNs, 'addr', 'add', '10.0.0.12/24', 'dev', 'ctr']);
      await runOk('ip', ['-n', vmB, 'addr', 'add', '10.0.0.11/24', 'dev', 'vmb']);
      for (const lp of ['vma', 'ctr', 'vmb']) {
        await waitFor(async () => (await nb('get', 'Logical_Switch_Port', lp, 'up')).trim() === 'true', {
          what: `${lp} up`,
          timeoutMs: 90_000 /* two chassis recompute on a loaded 2-core machine */,
        });
      }
      await nb('--wait=hv', 'sync');
      const tunnels = await ovsA.vsctl('--bare', '--columns=name', 'find', 'Interface', `type=${encap}`);
      assert.ok(tunnels.trim() !== '', `chassis A has a ${encap} tunnel`);

      const failures: string[] = [];
      for (const [ns, dest, what] of [
        [ctrNs, '10.0.0.11', 'container on A -> VM on B'],
        [vmA, '10.0.0.11', 'VM on A -> VM on B'],
        [vmB, '10.0.0.12', 'VM on B -> container on A'],
        [ctrNs, '10.0.0.10', 'container -> its parent VM'],
      ] as const) {
        const r = await run('ip', ['netns', 'exec', ns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', dest]);
        if (r.code !== 0) failures.push(`${what}: ${/\d+ received/.exec(r.stdout)?.[0] ?? r.stdout}`);
      }
      assert.deepEqual(failures, [], `log:\n${lines.slice(-40).join('\n')}`);
    } finally {
      for (const s of stops.reverse()) await s();
      await ovsA.stop();
      await ovsB.stop();
      await central.stop();
      tmp.cleanup();
    }
  });
