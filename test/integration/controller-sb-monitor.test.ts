/**
 * The controller replicates only the SB rows of its local datapaths
 * (sb-monitor.ts, `monitor_cond_change`), everything with
 * `external_ids:ovn-monitor-all=true` (ovn-controller(8)): real NB/SB
 * ovsdb-servers, the real ovn-northd, a private OVS; switch `sw` has a port
 * bound here and sits behind router `lr`; switch `far` has none. Its logical
 * flows, ports and MAC bindings stay out of the controller's replica until
 * monitor-all is set, and leave again when it is cleared; when a port of
 * `far` is bound here, `far` becomes local and its rows come in.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createNetns, runId } from '../helpers/netns.js';
import { startOvs } from '../helpers/ovs.js';
import { startOvnDatabases } from '../helpers/ovn-lab.js';
import { cleanupAll, runOk, spawnDaemon, tmpDir, waitFor } from '../helpers/proc.js';
import { createController } from '../../src/controller/controller.js';
import type { OvsdbClient } from '../../src/ovsdb/client.js';
import { nbctlChain, switchBehindRouter } from '../helpers/nb-topology.js';

after(cleanupAll);

test('controller: SB rows of local datapaths only, all with ovn-monitor-all', { timeout: 180_000 }, async () => {
  const tmp = tmpDir('ovnts-ctl-sbmon');
  const dir = tmp.path;
  const dbs = await startOvnDatabases(dir, 'real');
  const northd = await spawnDaemon(
    'ovn-northd',
    [`--ovnnb-db=${dbs.nbRemote}`, `--ovnsb-db=${dbs.sbRemote}`, `--unixctl=${join(dir, 'northd.ctl')}`, '--no-chdir', '-vconsole:err'],
    {
      name: 'ovn-northd',
      env: { OVN_RUNDIR: dir },
    },
  );
  const ns = await createNetns(`${runId()}-sbm`);
  const ovs = await startOvs({ netns: ns });
  const nb = (...a: string[]): Promise<string> => runOk('ovn-nbctl', [`--db=${dbs.nbRemote}`, '--timeout=60', ...a]);
  const sbctl = (...a: string[]): Promise<string> => runOk('ovn-sbctl', [`--db=${dbs.sbRemote}`, '--timeout=60', ...a]);
  await ovs.vsctl(
    'set',
    'Open_vSwitch',
    '.',
    'external_ids:system-id=sbmon',
    `external_ids:ovn-remote=${dbs.sbRemote}`,
    'external_ids:ovn-encap-type=geneve',
    'external_ids:ovn-encap-ip=192.0.2.1',
    'external_ids:ovn-bridge-datapath-type=netdev',
  );
  const c = createController({ ovsRemote: ovs.dbRemote });
  try {
    await nb(
      ...nbctlChain(
        ...switchBehindRouter('10.1.0.1/24'),
        ['lsp-add', 'sw', 'p1'],
        ['ls-add', 'far'],
        ['lsp-add', 'far', 'f1'],
        ['lsp-set-addresses', 'f1', '02:00:00:00:09:01 10.9.0.11'],
      ),
    );
    await nb('--wait=sb', 'sync');
    const dpOf = async (name: string): Promise<string> =>
      (await sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', `external_ids:name=${name}`)).trim();
    const [sw, lr, far] = [await dpOf('sw'), await dpOf('lr'), await dpOf('far')];
    await sbctl('create', 'MAC_Binding', 'logical_port=lr-sw', 'ip=10.1.0.50', 'mac="02:00:00:00:00:50"', `datapath=${lr}`);
    // A logical flow of `far` alone (northd shares most flows between switches through groups).
    await nb('acl-add', 'far', 'to-lport', '1000', 'ip4.src == 10.9.0.99', 'drop');

    await c.start();
    await waitFor(async () => (await ovs.vsctl('list-br')).split('\n').includes('br-int'), { what: 'br-int' });
    await ovs.vsctl('add-port', 'br-int', 'p1', '--', 'set', 'Interface', 'p1', 'type=internal', 'external_ids:iface-id=p1');
    await waitFor(async () => (await sbctl('--bare', '--columns=chassis', 'find', 'Port_Binding', 'logical_port=p1')).trim() !== '', {
      what: 'p1 claimed',
    });
    await c.idle();
    const sb = c.southbound as OvsdbClient;
    const dps = (table: string, col: string): Set<string> => {
      const out = new Set<string>();
      for (const r of sb.table(table).values()) {
        const d = r.optional(col);
        if (d !== null) out.add(String(d));
      }
      return out;
    };
    const ports = (): string[] => [...sb.table('Port_Binding').values()].map((r) => String(r.scalar('logical_port'))).sort();
    const farFlows = (): number =>
      [...sb.table('Logical_Flow').values()].filter((r) => String(r.optional('logical_datapath')) === far).length;

    // Local: sw (a bound port) and lr (across the patch); not far.
    assert.deepEqual(ports(), ['lr-sw', 'p1', 'sw-lr']);
    assert.ok(dps('Logical_Flow', 'logical_datapath').has(lr), 'router flows');
    assert.equal(farFlows(), 0, 'no flows of far');
    assert.deepEqual([...dps('MAC_Binding', 'datapath')], [lr]);
    assert.ok(sb.table('Logical_Flow').size > 0);
    const localCount = sb.table('Logical_Flow').size;

    // ovn-monitor-all: every row.
    await ovs.vsctl('set', 'Open_vSwitch', '.', 'external_ids:ovn-monitor-all=true');
    await sb.waitUntil(() => ports().includes('f1') && farFlows() > 0, 30_000);
    assert.ok(sb.table('Logical_Flow').size > localCount);
    assert.ok(dps('Multicast_Group', 'datapath').has(far));

    // Back to the local datapaths.
    await ovs.vsctl('remove', 'Open_vSwitch', '.', 'external_ids', 'ovn-monitor-all');
    await sb.waitUntil(() => !ports().includes('f1') && farFlows() === 0, 30_000);
    assert.equal(sb.table('Logical_Flow').size, localCount);

    // A port of far bound here: far becomes local, its rows come in.
    await ovs.vsctl('add-port', 'br-int', 'f1', '--', 'set', 'Interface', 'f1', 'type=internal', 'external_ids:iface-id=f1');
    await sb.waitUntil(() => farFlows() > 0 && dps('Multicast_Group', 'datapath').has(far), 30_000);
    await waitFor(async () => (await sbctl('--bare', '--columns=chassis', 'find', 'Port_Binding', 'logical_port=f1')).trim() !== '', {
      what: 'f1 claimed',
    });
    assert.ok(dps('Port_Binding', 'datapath').has(sw));
  } finally {
    await c.stop();
    await ovs.stop();
    await northd.stop();
    await dbs.stop();
    tmp.cleanup();
  }
});
