/**
 * Port bindings on this chassis (ovn-architecture(7), "Life Cycle of a VIF" and
 * "Life Cycle of a Container Interface Inside a VM"; ovn-controller(8)):
 *
 * - a VIF is local when an interface on the integration bridge carries
 *   `external_ids:iface-id` equal to a Port_Binding's `logical_port`;
 * - a container port (Port_Binding `parent_port` + `tag`) is local where its
 *   parent is;
 * - the controller claims local ports (Port_Binding `chassis`), reports them
 *   `up` and sets `ovn-installed` on the interface once their flows are in, and
 *   releases ports that went away;
 * - the datapaths that matter here are those of local ports and everything
 *   reachable from them through patch ports.
 *
 * {@link computeBindings} is pure over the two replicas; the rest writes.
 */
import type { OvsdbClient } from '../ovsdb/client.js';
import { bridgeInterfaces, findBridge, type BridgeInterface } from './ovs-config.js';
import type { Port_Binding } from '../ovsdb/models/ovn-sb.js';
import { SbModels } from './sb-models.js';

/** A logical port bound to an OVS interface on this chassis. */
export interface LocalVif {
  readonly logicalPort: string;
  readonly pbUuid: string;
  readonly datapath: string;
  readonly tunnelKey: number;
  readonly ofport: number;
  readonly ifaceUuid: string;
  readonly ifaceName: string;
}

/** A container port inside a local VIF: traffic of `tag` on the parent's OpenFlow port. */
export interface LocalContainer {
  readonly logicalPort: string;
  readonly pbUuid: string;
  readonly datapath: string;
  readonly tunnelKey: number;
  readonly parent: string;
  readonly tag: number;
  readonly ofport: number;
}

/** What binding found on this chassis for one pass. */
export interface Bindings {
  /** Local VIFs by logical port. */
  readonly vifs: ReadonlyMap<string, LocalVif>;
  /** Local container ports by logical port. */
  readonly containers: ReadonlyMap<string, LocalContainer>;
  /** Localport bindings with an interface here (never claimed: a localport exists on every chassis). */
  readonly localports: ReadonlyMap<string, LocalVif>;
  /** l3gateway bindings whose `options:l3gateway-chassis` is this chassis, by logical port. */
  readonly l3gateways: ReadonlyMap<string, string>;
  /** Port_Binding UUIDs this chassis should own (VIFs, containers, l3gateway ports). */
  readonly claimed: ReadonlySet<string>;
  /** Datapath_Binding UUIDs that matter here. */
  readonly localDatapaths: ReadonlySet<string>;
  /** Port_Bindings that name this chassis but are no longer local. */
  readonly toRelease: readonly string[];
  /** Interfaces with an iface-id that no Port_Binding has (yet). */
  readonly unknownIfaces: readonly string[];
}

/**
 * Computes the local bindings from the OVS and SB replicas (pure). `chassisUuid`
 * is this chassis' Chassis row.
 */
export function computeBindings(
  ovs: OvsdbClient,
  sb: OvsdbClient,
  bridge: string,
  chassisUuid: string,
  chassisName: string,
  models: SbModels = new SbModels(),
): Bindings {
  const ifaces = bridgeInterfaces(ovs, bridge);
  const byIfaceId = new Map<string, BridgeInterface>();
  for (const i of ifaces) {
    const id = i.externalIds.get('iface-id');
    // A port that ovs-vswitchd could not open (ofport -1) or has not numbered yet is not bound.
    if (id !== undefined && id !== '' && i.ofport !== undefined && !byIfaceId.has(id)) byIfaceId.set(id, i);
  }
  const pbs = [...models.rows(sb, 'Port_Binding')];
  const byName = new Map<string, Port_Binding>();
  for (const pb of pbs) byName.set(pb.logical_port, pb);

  const vifs = new Map<string, LocalVif>();
  const localports = new Map<string, LocalVif>();
  const claimed = new Set<string>();
  const unknownIfaces: string[] = [];
  for (const [id, iface] of byIfaceId) {
    const pb = byName.get(id);
    if (pb === undefined) {
      unknownIfaces.push(iface.name);
      continue;
    }
    // Only plain VIFs are bound from an iface-id (virtual ports follow their parent through
    // pinctrl, gateway ports their options), and only where the CMS asked for this chassis if it asked.
    const type = pb.type;
    if (type !== 'localport' && type !== '') continue;
    const port = {
      logicalPort: id,
      pbUuid: pb._uuid,
      datapath: pb.datapath,
      tunnelKey: pb.tunnel_key,
      ofport: iface.ofport!,
      ifaceUuid: iface.uuid,
      ifaceName: iface.name,
    };
    if (type === 'localport') {
      localports.set(id, port);
      continue;
    }
    const requested = pb.requested_chassis;
    if (requested !== null && requested !== chassisUuid) continue;
    vifs.set(id, port);
    claimed.add(pb._uuid);
  }
  const containers = new Map<string, LocalContainer>();
  for (const pb of pbs) {
    if (pb.parent_port === null || pb.tag === null) continue;
    const p = vifs.get(pb.parent_port);
    if (p === undefined) continue;
    const name = pb.logical_port;
    containers.set(name, {
      logicalPort: name,
      pbUuid: pb._uuid,
      datapath: pb.datapath,
      tunnelKey: pb.tunnel_key,
      parent: p.logicalPort,
      tag: pb.tag,
      ofport: p.ofport,
    });
    claimed.add(pb._uuid);
  }
  // Gateway router ports pinned to this chassis (ovn-nb(5) Logical_Router options:chassis).
  const l3gateways = new Map<string, string>();
  for (const pb of pbs) {
    if (pb.type !== 'l3gateway' || pb.options.get('l3gateway-chassis') !== chassisName) continue;
    l3gateways.set(pb.logical_port, pb.datapath);
    claimed.add(pb._uuid);
  }
  const toRelease: string[] = [];
  for (const pb of pbs) {
    if (pb.chassis !== chassisUuid || claimed.has(pb._uuid)) continue;
    if (pb.type === '' || pb.type === 'l3gateway') toRelease.push(pb._uuid);
  }

  // Local datapaths: those of local ports, then across patch ports (router <-> switch).
  const localDatapaths = new Set<string>();
  const queue: string[] = [];
  const add = (dp: string): void => {
    if (!localDatapaths.has(dp)) {
      localDatapaths.add(dp);
      queue.push(dp);
    }
  };
  for (const v of vifs.values()) add(v.datapath);
  for (const c of containers.values()) add(c.datapath);
  for (const dp of l3gateways.values()) add(dp);
  const patchesByDp = new Map<string, Port_Binding[]>();
  for (const pb of pbs) {
    if (pb.type !== 'patch' && pb.type !== 'l3gateway') continue;
    const list = patchesByDp.get(pb.datapath) ?? [];
    list.push(pb);
    patchesByDp.set(pb.datapath, list);
  }
  while (queue.length > 0) {
    const dp = queue.shift()!;
    for (const pb of patchesByDp.get(dp) ?? []) {
      // A gateway router is reached only where it is pinned.
      if (pb.type === 'l3gateway' && !l3gateways.has(pb.logical_port)) continue;
      const peerName = pb.options.get('peer');
      const peer = peerName === undefined ? undefined : byName.get(peerName);
      if (peer !== undefined) add(peer.datapath);
    }
  }
  return { vifs, containers, localports, l3gateways, claimed, localDatapaths, toRelease, unknownIfaces };
}

/**
 * Claims and releases Port_Bindings (ovn-sb(5) Port_Binding `chassis`, `up`).
 * `installed`: Port_Binding UUIDs whose flows are installed — only those are
 * reported `up`. `written`: ports whose claim or release this chassis
 * committed already (what an earlier call resolved to), which the replica may
 * not show yet. Resolves to the UUIDs of the ports it claimed or released.
 */
export async function syncPortBindings(
  sb: OvsdbClient,
  b: Bindings,
  chassisUuid: string,
  installed: ReadonlySet<string>,
  log: (msg: string) => void,
  models: SbModels = new SbModels(),
  written: ReadonlySet<string> = new Set(),
): Promise<ReadonlySet<string>> {
  const writing = new Set<string>();
  const txn = sb.txn();
  const portBinding = (uuid: string): Port_Binding | undefined => {
    const r = sb.row('Port_Binding', uuid);
    return r === undefined ? undefined : models.of('Port_Binding', r);
  };
  for (const uuid of b.claimed) {
    const pb = portBinding(uuid);
    if (pb === undefined) continue;
    const cols: Record<string, unknown> = {};
    const owner = written.has(uuid) ? chassisUuid : pb.chassis;
    // Our own claim, committed, set `up` false where it was true: the replica may still say true.
    const up = written.has(uuid) && pb.chassis !== chassisUuid ? false : pb.up;
    if (owner !== chassisUuid) {
      const lp = pb.logical_port;
      log(owner === null ? `Claiming lport ${lp} for this chassis.` : `Changing chassis for lport ${lp} from ${owner} to this chassis.`);
      cols['chassis'] = ['uuid', chassisUuid];
      writing.add(uuid);
    }
    if (installed.has(uuid) && owner === chassisUuid && up !== true) {
      log(`Setting lport ${pb.logical_port} up in Southbound`);
      cols['up'] = true;
    } else if (owner !== chassisUuid && up === true) {
      // Not up here until our flows for it are in.
      cols['up'] = false;
    }
    if (Object.keys(cols).length > 0) txn.update('Port_Binding', uuid, cols);
  }
  for (const uuid of b.toRelease) {
    const pb = portBinding(uuid);
    if (pb === undefined || written.has(uuid)) continue;
    writing.add(uuid);
    log(`Releasing lport ${pb.logical_port} from this chassis.`);
    txn.update('Port_Binding', uuid, { chassis: ['set', []], up: false });
  }
  if (txn.size > 0) await txn.commit();
  return writing;
}

/**
 * Sets `ovn-installed=true` (and `ovn-installed-ts`) in the external_ids of the
 * interfaces whose ports' flows are installed, and removes it from
 * interfaces that are no longer bound, as ovn-controller(8) documents for
 * `external_ids:ovn-installed`. Returns true when it wrote something.
 */
export async function syncOvnInstalled(
  ovs: OvsdbClient,
  bridge: string,
  b: Bindings,
  installed: ReadonlySet<string>,
  now: number = Date.now(),
): Promise<boolean> {
  const want = new Set<string>();
  for (const v of b.vifs.values()) if (installed.has(v.pbUuid)) want.add(v.ifaceUuid);
  const txn = ovs.txn();
  for (const i of bridgeInterfaces(ovs, bridge)) {
    const has = i.externalIds.get('ovn-installed') === 'true';
    if (want.has(i.uuid) && !has) {
      txn.mutate('Interface', i.uuid, [
        ['external_ids', 'delete', ['set', ['ovn-installed', 'ovn-installed-ts']]],
        [
          'external_ids',
          'insert',
          [
            'map',
            [
              ['ovn-installed', 'true'],
              ['ovn-installed-ts', String(now)],
            ],
          ],
        ],
      ]);
    } else if (!want.has(i.uuid) && i.externalIds.has('ovn-installed')) {
      txn.mutate('Interface', i.uuid, [['external_ids', 'delete', ['set', ['ovn-installed', 'ovn-installed-ts']]]]);
    }
  }
  if (txn.size === 0) return false;
  await txn.commit();
  return true;
}

// ---- conntrack zones ----

const CT_ZONE_PREFIX = 'ct-zone-';
const MAX_CT_ZONE = 65535;

/**
 * Conntrack zones for local logical ports and the `<datapath>_dnat` /
 * `<datapath>_snat` zones of local datapaths, kept in the integration bridge's
 * `external_ids:ct-zone-<name>` as ovn-controller(8) keeps them, so that a
 * restarted controller computes the same flows.
 */
export function assignCtZones(ovs: OvsdbClient, bridge: string, b: Bindings): { zones: Map<string, number>; changed: boolean } {
  const br = findBridge(ovs, bridge);
  const stored = new Map<string, number>();
  if (br !== undefined) {
    for (const [k, v] of br.map('external_ids')) {
      const key = String(k);
      if (!key.startsWith(CT_ZONE_PREFIX)) continue;
      const n = Number(v);
      if (Number.isInteger(n) && n > 0 && n <= MAX_CT_ZONE) stored.set(key.slice(CT_ZONE_PREFIX.length), n);
    }
  }
  const names: string[] = [...b.vifs.keys(), ...b.containers.keys(), ...b.localports.keys()];
  for (const dp of [...b.localDatapaths].sort()) names.push(`${dp}_dnat`, `${dp}_snat`);
  const zones = new Map<string, number>();
  const used = new Set<number>();
  for (const n of names) {
    const z = stored.get(n);
    if (z !== undefined && !used.has(z)) {
      zones.set(n, z);
      used.add(z);
    }
  }
  let next = 1;
  let changed = false;
  for (const n of names) {
    if (zones.has(n)) continue;
    while (used.has(next)) next++;
    if (next > MAX_CT_ZONE) break;
    zones.set(n, next);
    used.add(next);
    changed = true;
  }
  for (const n of stored.keys()) if (!zones.has(n)) changed = true;
  return { zones, changed };
}

/**
 * Writes the zone assignment to the bridge's external_ids: the `ct-zone-*`
 * keys become exactly `zones`. Only the keys that change are written (a new
 * port's zone is one key, not all of them again).
 */
export async function storeCtZones(ovs: OvsdbClient, bridge: string, zones: ReadonlyMap<string, number>): Promise<void> {
  const br = findBridge(ovs, bridge);
  if (br === undefined) return;
  const want = new Map([...zones].map(([n, z]) => [`${CT_ZONE_PREFIX}${n}`, String(z)]));
  const old = new Map<string, string>();
  for (const [k, v] of br.map('external_ids')) if (String(k).startsWith(CT_ZONE_PREFIX)) old.set(String(k), String(v));
  const gone = [...old].filter(([k, v]) => want.get(k) !== v).map(([k]) => k);
  const added = [...want].filter(([k, v]) => old.get(k) !== v);
  const txn = ovs.txn();
  const muts: Array<[string, string, unknown]> = [];
  if (gone.length > 0) muts.push(['external_ids', 'delete', ['set', gone]]);
  if (added.length > 0) muts.push(['external_ids', 'insert', ['map', added]]);
  if (muts.length === 0) return;
  txn.mutate('Bridge', br.uuid, muts);
  await txn.commit();
}

/**
 * Records on the integration bridge the SB `nb_cfg` whose flows are installed
 * (`external_ids:ovn-nb-cfg`, `ovn-nb-cfg-ts`), as ovn-controller does for
 * tools that only see the local OVS. Returns true when it wrote something.
 */
export async function storeBridgeNbCfg(ovs: OvsdbClient, bridge: string, nbCfg: number, now: number = Date.now()): Promise<boolean> {
  const br = findBridge(ovs, bridge);
  if (br === undefined || br.map('external_ids').get('ovn-nb-cfg') === String(nbCfg)) return false;
  await ovs
    .txn()
    .mutate('Bridge', br.uuid, [
      ['external_ids', 'delete', ['set', ['ovn-nb-cfg', 'ovn-nb-cfg-ts']]],
      [
        'external_ids',
        'insert',
        [
          'map',
          [
            ['ovn-nb-cfg', String(nbCfg)],
            ['ovn-nb-cfg-ts', String(now)],
          ],
        ],
      ],
    ])
    .commit();
  return true;
}
