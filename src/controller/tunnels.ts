/**
 * Tunnel ports to the other chassis (ovn-architecture(7), "Tunnel
 * Encapsulations"; ovn-controller(8) on the integration bridge's tunnel
 * ports): one port per remote chassis on the integration bridge, of the best
 * encapsulation type both chassis offer (Geneve before STT before VXLAN), with
 * `options:key=flow` so the flows set the tunnel key and `remote_ip` the
 * peer's Encap IP. Ports are recognised by `external_ids:ovn-chassis-id`
 * (`<chassis>@<ip>`), named `ovn-<first 6 characters of the chassis>-<n>`.
 */
import type { OvsdbClient } from '../ovsdb/client.js';
import { bridgeInterfaces, findBridge, ENCAP_TYPES, type ChassisConfig, type EncapType } from './ovs-config.js';
import type { Encap } from '../ovsdb/models/ovn-sb.js';
import { SbModels } from './sb-models.js';

/** A tunnel the chassis should have. */
export interface TunnelSpec {
  readonly chassis: string;
  readonly type: EncapType;
  readonly remoteIp: string;
  readonly options: ReadonlyMap<string, string>;
  /** `<chassis>@<ip>`, the port's `external_ids:ovn-chassis-id`. */
  readonly chassisId: string;
}

/** A tunnel port present on the bridge. */
export interface TunnelPort {
  readonly chassis: string;
  readonly type: EncapType;
  readonly remoteIp: string;
  /** OpenFlow port; undefined until ovs-vswitchd numbers it. */
  readonly ofport: number | undefined;
  readonly name: string;
}

/**
 * Whether two chassis may tunnel to each other (ovn-controller(8),
 * `ovn-transport-zones`): a chassis with no zone is in the default zone only.
 */
export function shareTransportZone(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 || b.length === 0) return a.length === 0 && b.length === 0;
  return a.some((z) => b.includes(z));
}

/** The tunnels wanted towards every other chassis in the SB (pure). */
export function desiredTunnels(sb: OvsdbClient, cfg: ChassisConfig, models: SbModels = new SbModels()): TunnelSpec[] {
  const localTypes = new Set(cfg.encaps.map((e) => e.type));
  const out: TunnelSpec[] = [];
  for (const ch of models.rows(sb, 'Chassis')) {
    const name = ch.name;
    if (name === cfg.systemId) continue;
    if (!shareTransportZone(cfg.transportZones, ch.transport_zones)) continue;
    const encaps = ch.encaps.flatMap((u) => {
      const r = sb.row('Encap', u);
      return r === undefined ? [] : [models.of('Encap', r)];
    });
    let pick: Encap | undefined;
    for (const t of ENCAP_TYPES) {
      if (!localTypes.has(t)) continue;
      pick = encaps.filter((e) => e.type === t).sort((a, b) => (a.ip < b.ip ? -1 : 1))[0];
      if (pick !== undefined) break;
    }
    if (pick === undefined) continue;
    const type = pick.type;
    const remoteIp = pick.ip;
    const options = new Map<string, string>([
      ['key', 'flow'],
      ['remote_ip', remoteIp],
    ]);
    const csum = pick.options.get('csum');
    if (csum !== undefined) options.set('csum', csum);
    if (cfg.encaps.filter((e) => e.type === type).length > 1) {
      const local = cfg.encaps.find((e) => e.type === type);
      if (local !== undefined) options.set('local_ip', local.ip);
    }
    out.push({ chassis: name, type, remoteIp, options: new Map([...options].sort()), chassisId: `${name}@${remoteIp}` });
  }
  return out.sort((a, b) => (a.chassis < b.chassis ? -1 : a.chassis > b.chassis ? 1 : 0));
}

/** Tunnel ports on the bridge, by remote chassis name. */
export function tunnelPorts(ovs: OvsdbClient, bridge: string): Map<string, TunnelPort> {
  const out = new Map<string, TunnelPort>();
  for (const i of bridgeInterfaces(ovs, bridge)) {
    const id = i.portExternalIds.get('ovn-chassis-id');
    if (id === undefined) continue;
    const at = id.lastIndexOf('@');
    const chassis = at < 0 ? id : id.slice(0, at);
    out.set(chassis, {
      chassis,
      type: i.type as EncapType,
      remoteIp: i.options.get('remote_ip') ?? '',
      ofport: i.ofport,
      name: i.name,
    });
  }
  return out;
}

function sameOptions(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/**
 * Adds, updates and removes tunnel ports on the bridge to match `want`.
 * Returns true when it wrote something.
 */
export async function syncTunnels(
  ovs: OvsdbClient,
  bridge: string,
  want: readonly TunnelSpec[],
  log: (m: string) => void,
): Promise<boolean> {
  const br = findBridge(ovs, bridge);
  if (br === undefined) return false;
  const ifaces = bridgeInterfaces(ovs, bridge);
  const portNames = new Set(ifaces.map((i) => i.name));
  const have = new Map<string, (typeof ifaces)[number]>();
  for (const i of ifaces) {
    const id = i.portExternalIds.get('ovn-chassis-id');
    if (id !== undefined) have.set(id, i);
  }
  const txn = ovs.txn();
  const wantIds = new Set(want.map((w) => w.chassisId));
  const removePorts: string[] = [];
  for (const [id, i] of have) {
    if (!wantIds.has(id)) {
      log(`removing tunnel port ${i.name} (${id})`);
      removePorts.push(i.portUuid);
      portNames.delete(i.name);
    }
  }
  const addPorts: unknown[] = [];
  for (const w of want) {
    const cur = have.get(w.chassisId);
    if (cur !== undefined) {
      if (cur.type !== w.type || !sameOptions(cur.options, w.options)) {
        txn.update('Interface', cur.uuid, { type: w.type, options: ['map', [...w.options]] });
      }
      continue;
    }
    let name = '';
    for (let n = 0; ; n++) {
      name = `ovn-${w.chassis.slice(0, 6)}-${n.toString(16)}`;
      if (!portNames.has(name)) break;
    }
    portNames.add(name);
    log(`adding tunnel port ${name} (${w.type} to ${w.remoteIp} for chassis ${w.chassis})`);
    const iface = txn.insert('Interface', { name, type: w.type, options: ['map', [...w.options]] });
    addPorts.push(txn.insert('Port', { name, interfaces: iface, external_ids: ['map', [['ovn-chassis-id', w.chassisId]]] }));
  }
  const muts: Array<[string, string, unknown]> = [];
  if (removePorts.length > 0) muts.push(['ports', 'delete', ['set', removePorts.map((u) => ['uuid', u])]]);
  if (addPorts.length > 0) muts.push(['ports', 'insert', ['set', addPorts]]);
  if (muts.length > 0) txn.mutate('Bridge', br.uuid, muts);
  if (txn.size === 0) return false;
  await txn.commit();
  return true;
}
