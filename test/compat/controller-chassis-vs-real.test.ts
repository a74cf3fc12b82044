/**
 * The same Open_vSwitch row through the real ovn-controller 23.03 and through
 * `ovnts controller`, one after the other on the same private OVS and SB: the
 * integration bridge each creates, the Chassis / Encap / Chassis_Private rows
 * each registers and the tunnel ports each builds to the same remote chassis
 * must be the same (UUIDs, timestamps and nb_cfg — which depends on flows —
 * aside).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, nsPrefix, runId } from '../helpers/netns.js';
import { startOvs, type OvsInstance } from '../helpers/ovs.js';
import { startOvnDatabases } from '../helpers/ovn-lab.js';
import { startOvntsController } from '../helpers/ovnts-controller.js';
import { cleanupAll, run, runOk, spawnDaemon, tmpDir, waitFor } from '../helpers/proc.js';

after(cleanupAll);

type Rec = Record<string, unknown>;

async function listJson(cmd: string, db: string, table: string, env?: Record<string, string>): Promise<Rec[]> {
  const out = await runOk(cmd, [`--db=${db}`, '--format=json', '--data=json', 'list', table], env === undefined ? {} : { env });
  const j = JSON.parse(out) as { headings: string[]; data: unknown[][] };
  return j.data.map((row) => Object.fromEntries(j.headings.map((h, i) => [h, row[i]])));
}

/** An OVSDB JSON map as a plain object, without the given keys. */
function mapOf(v: unknown, drop: readonly string[] = []): Rec {
  const pairs = (v as [string, [string, unknown][]])[1];
  return Object.fromEntries(pairs.filter(([k]) => !drop.includes(k)));
}

/** What a controller wrote for chassis `name`, with UUIDs resolved to names. */
async function capture(sbRemote: string, ovs: OvsInstance, name: string): Promise<Rec> {
  const chassis = (await listJson('ovn-sbctl', sbRemote, 'Chassis')).find((r) => r['name'] === name)!;
  const encaps = (await listJson('ovn-sbctl', sbRemote, 'Encap'))
    .filter((r) => r['chassis_name'] === name)
    .map((r) => ({ type: r['type'], ip: r['ip'], options: mapOf(r['options']) }))
    .sort((a, b) => (String(a.type) < String(b.type) ? -1 : 1));
  const priv = (await listJson('ovn-sbctl', sbRemote, 'Chassis_Private')).find((r) => r['name'] === name)!;
  const bridges = await listJson('ovs-vsctl', ovs.dbRemote, 'Bridge', { ...ovs.env });
  const brInt = bridges.find((b) => b['name'] === 'br-int')!;
  const ports = await listJson('ovs-vsctl', ovs.dbRemote, 'Port', { ...ovs.env });
  const ifaces = await listJson('ovs-vsctl', ovs.dbRemote, 'Interface', { ...ovs.env });
  const tunnels = ports
    .filter((p) => 'ovn-chassis-id' in mapOf(p['external_ids']))
    .map((p) => {
      const i = ifaces.find((x) => x['name'] === p['name'])!;
      return { name: p['name'], external_ids: mapOf(p['external_ids']), type: i['type'], options: mapOf(i['options']) };
    })
    .sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1));
  return {
    chassis: {
      hostname: chassis['hostname'],
      other_config: mapOf(chassis['other_config']),
      external_ids: mapOf(chassis['external_ids']),
      nb_cfg: chassis['nb_cfg'],
      transport_zones: chassis['transport_zones'],
      vtep_logical_switches: chassis['vtep_logical_switches'],
      encaps: (chassis['encaps'] as [string, unknown]).length,
    },
    encaps,
    chassis_private: {
      name: priv['name'],
      chassis_is_ours: (priv['chassis'] as [string, string])[1] === (chassis['_uuid'] as [string, string])[1],
      external_ids: mapOf(priv['external_ids']),
    },
    br_int: {
      fail_mode: brInt['fail_mode'],
      datapath_type: brInt['datapath_type'],
      // hwaddr is ovs-vswitchd's choice, different per bridge instance.
      other_config: mapOf(brInt['other_config'], ['hwaddr']),
    },
    tunnels,
  };
}

interface Scenario {
  readonly name: string;
  /** Extra Open_vSwitch external_ids. */
  readonly ids: readonly string[];
  /** Other chassis: name, encap type(s), IP, transport zones. */
  readonly remotes: ReadonlyArray<readonly [string, string, string, string]>;
  /** How many tunnels the real controller builds (it is the oracle: a wrong number times out). */
  readonly tunnels: number;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'geneve+vxlan, bridge mappings, CMS options',
    ids: [
      'external_ids:ovn-encap-type=geneve,vxlan',
      'external_ids:ovn-bridge-mappings=physnet1:br-phys',
      'external_ids:ovn-cms-options=enable-chassis-as-gw',
    ],
    // Names that differ in their first 6 characters: which of two colliding
    // names gets suffix 0 depends on ovn-controller's hash order.
    remotes: [
      ['remote-one', 'geneve', '192.0.2.2', ''],
      ['second-two', 'vxlan', '192.0.2.3', ''],
    ],
    tunnels: 2,
  },
  {
    name: 'transport zones',
    ids: ['external_ids:ovn-encap-type=geneve', 'external_ids:ovn-transport-zones=tz1,tz2'],
    remotes: [
      ['nozone-a', 'geneve', '192.0.2.2', ''],
      ['zone2-b', 'geneve', '192.0.2.3', 'tz2'],
      ['zone3-c', 'geneve', '192.0.2.4', 'tz3'],
    ],
    tunnels: 1,
  },
];

for (const sc of SCENARIOS) {
  test(`${sc.name}: Chassis, Encap, Chassis_Private, br-int and tunnels as ovn-controller writes them`, { timeout: 180_000 }, async (t) => {
    const tmp = tmpDir('ovnts-ctl-vs-real');
    const dir = tmp.path;
    const lines: string[] = [];
    const log = (l: string): void => void lines.push(l);
    const dbs = await startOvnDatabases(dir, 'real');
    const id = runId();
    const ns = await createNetns(`${id}-hv`);
    const ovs = await startOvs({ netns: ns, log });
    const sb = (...a: string[]): Promise<string> => runOk('ovn-sbctl', [`--db=${dbs.sbRemote}`, '--timeout=20', ...a]);
    const systemId = `${id}-chassis`;
    try {
      await ovs.vsctl(
        'set',
        'Open_vSwitch',
        '.',
        `external_ids:system-id=${systemId}`,
        `external_ids:ovn-remote=${dbs.sbRemote}`,
        'external_ids:ovn-encap-ip=192.0.2.1',
        'external_ids:ovn-bridge-datapath-type=netdev',
        ...sc.ids,
      );
      for (const [name, type, ip, zones] of sc.remotes) {
        await sb('chassis-add', name, type, ip);
        if (zones !== '') await sb('set', 'Chassis', name, `transport_zones=${zones}`);
      }
      const settled = async (): Promise<Rec | undefined> => {
        const names = (await sb('--bare', '--columns=name', 'list', 'Chassis_Private')).split('\n').map((s) => s.trim());
        if (!names.includes(systemId)) return undefined;
        const c = await capture(dbs.sbRemote, ovs, systemId);
        return (c['tunnels'] as unknown[]).length === sc.tunnels ? c : undefined;
      };

      // The real ovn-controller first.
      const realDir = join(dir, 'real');
      mkdirSync(realDir);
      const pre = nsPrefix(ns);
      const real = await spawnDaemon(
        pre[0]!,
        [
          ...pre.slice(1),
          'ovn-controller',
          ovs.dbRemote,
          `--log-file=${join(realDir, 'ovn-controller.log')}`,
          '--no-chdir',
          '-vconsole:err',
        ],
        {
          name: 'ovn-controller',
          env: { ...ovs.env, OVN_RUNDIR: realDir, OVN_LOGDIR: realDir },
          onLine: log,
        },
      );
      const want = await waitFor(settled, { what: 'real ovn-controller registered', timeoutMs: 30000 });
      // ovn-appctl exit removes what it registered; then br-int goes too, so ovnts starts from the same point.
      const ctl = readdirSync(realDir).find((n) => /^ovn-controller\.\d+\.ctl$/.test(n));
      assert.ok(ctl, 'ovn-controller control socket');
      await run('ovn-appctl', ['-t', join(realDir, ctl), 'exit']);
      await real.exited;
      await real.stop();
      for (const t of ['Chassis_Private', 'Chassis']) {
        const u = (await sb('--bare', '--columns=_uuid', 'find', t, `name=${systemId}`)).trim();
        if (u !== '') await sb('destroy', t, u);
      }
      await ovs.vsctl('--if-exists', 'del-br', 'br-int');

      mkdirSync(join(dir, 'ovnts'));
      const ours = await startOvntsController({ dbs, dir: join(dir, 'ovnts'), log, ovs, systemId });
      try {
        const got = await waitFor(settled, { what: 'ovnts controller registered', timeoutMs: 30000 });
        t.diagnostic(`real ovn-controller wrote: ${JSON.stringify(want)}`);
        assert.deepEqual(got, want, `log:\n${lines.join('\n')}`);
      } finally {
        await ours.stop();
      }
    } finally {
      await ovs.stop();
      await dbs.stop();
      tmp.cleanup();
    }
  });
}
