/**
 * The pieces of an "OVN chassis under test" that the controller tests and
 * benches each set up: the central side (real NB/SB ovsdb-servers and the real
 * ovn-northd on them, with ovn-nbctl / ovn-sbctl bound to them), the
 * Open_vSwitch external_ids that make an OVS instance a chassis, and the
 * controllers started on that OVS — the real ovn-controller, or `ovnts
 * controller` with a control socket for ovn-appctl. Each piece is separate so
 * a test composes only what it needs (two chassis, a controller swapped
 * mid-test) and tears down in its own order.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { nsPrefix } from './netns.js';
import type { OvsInstance } from './ovs.js';
import { startOvnDatabases, type LabDatabases } from './ovn-lab.js';
import { OVNTS } from './ovsdb-servers.js';
import { runOk, spawnDaemon, type Daemon } from './proc.js';
import type { OvsdbClient } from '../../src/ovsdb/client.js';
import { findBridge, ovsRootRow, parseChassisConfig } from '../../src/controller/ovs-config.js';
import { assignCtZones, computeBindings } from '../../src/controller/binding.js';
import { tunnelPorts } from '../../src/controller/tunnels.js';
import { localnetOfports } from '../../src/controller/patch.js';
import type { ChassisFacts } from '../../src/controller/controller.js';

export interface Central {
  readonly dbs: LabDatabases;
  /** `ovn-nbctl --db=<NB> --timeout=<s> ARGS` → stdout. */
  nb(...args: string[]): Promise<string>;
  /** `ovn-sbctl --db=<SB> --timeout=<s> ARGS` → stdout. */
  sb(...args: string[]): Promise<string>;
  /** Stops ovn-northd, then the databases. */
  stop(): Promise<void>;
}

export interface CentralOptions {
  /** ovn-northd's output lines. */
  readonly log?: (line: string) => void;
  /** `--timeout` of the nb/sb commands, seconds. Default 20. */
  readonly ctlTimeoutS?: number;
}

/** Real NB/SB ovsdb-servers in `dir` (the caller owns it) and the real ovn-northd on them. */
export async function startCentral(dir: string, opts: CentralOptions = {}): Promise<Central> {
  const dbs = await startOvnDatabases(dir, 'real');
  let northd: Daemon;
  try {
    northd = await spawnDaemon(
      'ovn-northd',
      [`--ovnnb-db=${dbs.nbRemote}`, `--ovnsb-db=${dbs.sbRemote}`, `--unixctl=${join(dir, 'northd.ctl')}`, '--no-chdir', '-vconsole:err'],
      { name: 'ovn-northd', env: { OVN_RUNDIR: dir }, onLine: opts.log ?? ((): void => undefined) },
    );
  } catch (e) {
    await dbs.stop();
    throw e;
  }
  const timeout = `--timeout=${opts.ctlTimeoutS ?? 20}`;
  return {
    dbs,
    nb: (...a) => runOk('ovn-nbctl', [`--db=${dbs.nbRemote}`, timeout, ...a]),
    sb: (...a) => runOk('ovn-sbctl', [`--db=${dbs.sbRemote}`, timeout, ...a]),
    stop: async () => {
      await northd.stop();
      await dbs.stop();
    },
  };
}

export interface ChassisConfig {
  /** external_ids:system-id, the Chassis name. */
  readonly systemId: string;
  /** The SB remote the controller connects to. */
  readonly sbRemote: string;
  /** Default 192.0.2.1 (TEST-NET-1: only a tunnel endpoint label unless the test wires an underlay). */
  readonly encapIp?: string;
  /** Default geneve. */
  readonly encapType?: 'geneve' | 'vxlan';
}

/** Makes the OVS instance a chassis: its Open_vSwitch external_ids as ovn-controller(8) reads them, br-int on the userspace datapath. */
export async function setChassisConfig(ovs: OvsInstance, c: ChassisConfig): Promise<void> {
  await ovs.vsctl(
    'set',
    'Open_vSwitch',
    '.',
    `external_ids:system-id=${c.systemId}`,
    `external_ids:ovn-remote=${c.sbRemote}`,
    `external_ids:ovn-encap-type=${c.encapType ?? 'geneve'}`,
    `external_ids:ovn-encap-ip=${c.encapIp ?? '192.0.2.1'}`,
    'external_ids:ovn-bridge-datapath-type=netdev',
  );
}

/** `cmd` inside the instance's namespace, if it has one: the program and arguments for spawnDaemon. */
function inChassisNetns(ovs: OvsInstance, cmd: readonly string[]): [string, string[]] {
  const full = [...nsPrefix(ovs.netns), ...cmd];
  return [full[0]!, full.slice(1)];
}

/**
 * The real ovn-controller on the OVS instance, inside its namespace, with
 * `dir` (the caller owns it) as its run and log directory — so its control
 * socket is `<dir>/ovn-controller.<pid>.ctl` (23.03 has no --unixctl).
 * Not waited for: the callers wait for what they measure or compare.
 */
export function startRealController(ovs: OvsInstance, dir: string, log?: (line: string) => void): Promise<Daemon> {
  const [cmd, args] = inChassisNetns(ovs, [
    'ovn-controller',
    ovs.dbRemote,
    `--log-file=${join(dir, 'ovn-controller.log')}`,
    '--no-chdir',
    '-vconsole:err',
  ]);
  return spawnDaemon(cmd, args, {
    name: 'ovn-controller',
    // OVS_RUNDIR (in ovs.env) makes it find this instance's br-int.mgmt.
    env: { ...ovs.env, OVN_RUNDIR: dir, OVN_LOGDIR: dir },
    onLine: log ?? ((): void => undefined),
  });
}

/**
 * `ovnts controller` on the OVS instance with its control socket at
 * `<dir>/ctl/ovnts-controller.ctl` (for ovn-appctl -t), run and log directory
 * `<dir>/ctl`. Not waited for: the callers wait on the socket or the SB.
 */
export async function startOvntsControllerWithSocket(
  ovs: OvsInstance,
  dir: string,
  log: (line: string) => void,
): Promise<{ daemon: Daemon; sock: string }> {
  const ctlDir = join(dir, 'ctl');
  mkdirSync(ctlDir);
  const sock = join(ctlDir, 'ovnts-controller.ctl');
  const [cmd, args] = inChassisNetns(ovs, [OVNTS, 'controller', ovs.dbRemote, `--unixctl=${sock}`, `--log-file=${join(ctlDir, 'c.log')}`]);
  const daemon = await spawnDaemon(cmd, args, {
    name: 'ovnts-controller',
    env: { ...ovs.env, OVN_RUNDIR: ctlDir },
    onLine: log,
  });
  return { daemon, sock };
}

/**
 * The conntrack zones the real ovn-controller stored on br-int
 * (`external_ids:ct-zone-<port or datapath_dnat/_snat>`): the same local facts it used.
 */
function storedZones(ovs: OvsdbClient, bridge: string): Map<string, number> | undefined {
  const br = findBridge(ovs, bridge);
  if (br === undefined) return undefined;
  const zones = new Map<string, number>();
  for (const [k, v] of br.map('external_ids'))
    if (String(k).startsWith('ct-zone-')) zones.set(String(k).slice('ct-zone-'.length), Number(v));
  return zones.size > 0 ? zones : undefined;
}

/**
 * The chassis facts as the daemon computes them, from replicas of the
 * chassis' OVS database and the SB; ct zones are those a controller stored on
 * the bridge, or assigned afresh when none are stored yet.
 */
export function chassisFacts(ovs: OvsdbClient, sb: OvsdbClient): ChassisFacts {
  const root = ovsRootRow(ovs);
  assert.ok(root, 'Open_vSwitch row');
  const config = parseChassisConfig(root);
  const chassis = [...sb.table('Chassis').values()].find((r) => r.scalar('name') === config.systemId);
  assert.ok(chassis, `Chassis ${config.systemId}`);
  const bindings = computeBindings(ovs, sb, config.bridge, chassis.uuid, config.systemId);
  return {
    config,
    chassisUuid: chassis.uuid,
    bindings,
    tunnels: tunnelPorts(ovs, config.bridge),
    ctZones: storedZones(ovs, config.bridge) ?? assignCtZones(ovs, config.bridge, bindings).zones,
    localnetPorts: localnetOfports(ovs, config.bridge),
  };
}
