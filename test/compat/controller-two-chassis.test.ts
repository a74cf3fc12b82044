/**
 * Two chassis on one SB, each with its own OVS in its own namespace: one runs
 * the real ovn-controller, the other `ovnts controller`. Each must build a
 * tunnel to the other from the other's Chassis/Encap rows (so ovnts registers
 * what the real controller reads, and reads what it registers), OVS must
 * accept both tunnel ports, and a VIF that moves from the real chassis to the
 * ovnts one is claimed by ovnts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, runId } from '../helpers/netns.js';
import { startOvs, type OvsInstance } from '../helpers/ovs.js';
import { startCentral, setChassisConfig, startRealController } from '../helpers/chassis.js';
import { startOvntsController } from '../helpers/ovnts-controller.js';
import { cleanupAll, tmpDir, waitFor } from '../helpers/proc.js';

after(cleanupAll);

/** The tunnel port towards `chassis` on br-int: name, remote_ip, ofport. */
async function tunnelTo(ovs: OvsInstance, chassis: string, ip: string): Promise<{ name: string; ofport: number } | undefined> {
  const name = (await ovs.vsctl('--bare', '--columns=name', 'find', 'Port', `external_ids:ovn-chassis-id="${chassis}@${ip}"`)).trim();
  if (name === '') return undefined;
  const ofport = Number((await ovs.vsctl('get', 'Interface', name, 'ofport')).trim());
  return ofport > 0 ? { name, ofport } : undefined;
}

test(
  'real ovn-controller and ovnts controller build tunnels to each other; a VIF moves to the ovnts chassis',
  { timeout: 180_000 },
  async () => {
    const tmp = tmpDir('ovnts-ctl-two');
    const dir = tmp.path;
    const lines: string[] = [];
    const log = (l: string): void => void lines.push(l);
    const central = await startCentral(dir, { log });
    const { dbs, nb, sb } = central;
    const id = runId();
    const nsA = await createNetns(`${id}-a`);
    const nsB = await createNetns(`${id}-b`);
    const ovsA = await startOvs({ netns: nsA, log });
    const ovsB = await startOvs({ netns: nsB, log });
    const realId = `${id}-real`;
    const oursId = `${id}-ours`;
    await setChassisConfig(ovsA, { systemId: realId, sbRemote: dbs.sbRemote, encapIp: '192.0.2.1' });
    await setChassisConfig(ovsB, { systemId: oursId, sbRemote: dbs.sbRemote, encapIp: '192.0.2.2' });
    const realDir = join(dir, 'real');
    const oursDir = join(dir, 'ours');
    mkdirSync(realDir);
    mkdirSync(oursDir);
    const real = await startRealController(ovsA, realDir, log);
    const ours = await startOvntsController({ dbs, dir: oursDir, log, ovs: ovsB, systemId: oursId });
    try {
      const fromReal = await waitFor(() => tunnelTo(ovsA, oursId, '192.0.2.2'), {
        what: 'real ovn-controller tunnel to the ovnts chassis',
        timeoutMs: 30000,
      });
      const fromOurs = await waitFor(() => tunnelTo(ovsB, realId, '192.0.2.1'), {
        what: 'ovnts tunnel to the real chassis',
        timeoutMs: 30000,
      });
      assert.equal(fromReal.name, `ovn-${oursId.slice(0, 6)}-0`);
      assert.equal(fromOurs.name, `ovn-${realId.slice(0, 6)}-0`);
      for (const [ovs, name] of [
        [ovsA, fromReal.name],
        [ovsB, fromOurs.name],
      ] as const) {
        assert.equal((await ovs.vsctl('get', 'Interface', name, 'type')).trim(), 'geneve');
        assert.equal((await ovs.vsctl('--if-exists', 'get', 'Interface', name, 'error')).trim(), '[]');
      }

      // A VIF bound on the real chassis moves to the ovnts chassis.
      await nb('ls-add', 'sw');
      await nb('lsp-add', 'sw', 'vif');
      await ovsA.vsctl('add-port', 'br-int', 'vif', '--', 'set', 'Interface', 'vif', 'type=internal', 'external_ids:iface-id=vif');
      const uuidOf = async (name: string): Promise<string> =>
        (await sb('--bare', '--columns=_uuid', 'find', 'Chassis', `name=${name}`)).trim();
      const realUuid = await uuidOf(realId);
      const oursUuid = await uuidOf(oursId);
      const owner = async (): Promise<string> =>
        (await sb('--bare', '--columns=chassis', 'find', 'Port_Binding', 'logical_port=vif')).trim();
      await waitFor(async () => (await owner()) === realUuid, { what: 'vif on the real chassis' });
      await ovsA.vsctl('del-port', 'br-int', 'vif');
      await ovsB.vsctl('add-port', 'br-int', 'vif', '--', 'set', 'Interface', 'vif', 'type=internal', 'external_ids:iface-id=vif');
      await waitFor(async () => (await owner()) === oursUuid, { what: `vif moved to the ovnts chassis (${lines.slice(-30).join('\n')})` });
    } finally {
      await ours.stop();
      await real.stop();
      await ovsA.stop();
      await ovsB.stop();
      await central.stop();
      tmp.cleanup();
    }
  },
);
