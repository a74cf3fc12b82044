/**
 * Patch ports for localnet logical ports (ovn-controller(8),
 * `external_ids:ovn-bridge-mappings`; ovn-architecture(7) on localnet): for a
 * localnet Port_Binding on a datapath that matters here, whose
 * `options:network_name` is mapped to a physical bridge, a pair of OVS patch
 * ports joins the integration bridge and that bridge —
 * `patch-br-int-to-<port>` and `patch-<port>-to-br-int`, both marked with
 * `external_ids:ovn-localnet-port=<port>`.
 */
import type { OvsdbClient } from '../ovsdb/client.js';
import { bridgeInterfaces, findBridge } from './ovs-config.js';
import { SbModels } from './sb-models.js';

const MARK = 'ovn-localnet-port';

/** `physnet1:br-eth0,physnet2:br-eth1` → network name → bridge name. Malformed entries are skipped. */
export function parseBridgeMappings(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of s.split(',')) {
    const i = item.indexOf(':');
    if (i <= 0 || i === item.length - 1) continue;
    out.set(item.slice(0, i).trim(), item.slice(i + 1).trim());
  }
  return out;
}

/** A localnet patch pair the chassis should have. */
export interface LocalnetPatch {
  readonly logicalPort: string;
  readonly physicalBridge: string;
  /** The port on the integration bridge. */
  readonly intPort: string;
  /** The port on the physical bridge. */
  readonly physPort: string;
}

/** The localnet patch pairs wanted for the local datapaths (pure). */
export function desiredLocalnetPatches(
  sb: OvsdbClient,
  intBridge: string,
  mappings: ReadonlyMap<string, string>,
  localDatapaths: ReadonlySet<string>,
  models: SbModels = new SbModels(),
): LocalnetPatch[] {
  const out: LocalnetPatch[] = [];
  for (const pb of models.rows(sb, 'Port_Binding')) {
    if (pb.type !== 'localnet' || !localDatapaths.has(pb.datapath)) continue;
    const net = pb.options.get('network_name');
    const phys = net === undefined ? undefined : mappings.get(net);
    if (phys === undefined) continue;
    const lp = pb.logical_port;
    out.push({ logicalPort: lp, physicalBridge: phys, intPort: `patch-${intBridge}-to-${lp}`, physPort: `patch-${lp}-to-${intBridge}` });
  }
  return out.sort((a, b) => (a.logicalPort < b.logicalPort ? -1 : 1));
}

/** OpenFlow ports of the localnet patch ports on the integration bridge, by logical port. */
export function localnetOfports(ovs: OvsdbClient, intBridge: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of bridgeInterfaces(ovs, intBridge)) {
    const lp = i.portExternalIds.get(MARK);
    if (lp !== undefined && i.ofport !== undefined) out.set(lp, i.ofport);
  }
  return out;
}

/**
 * Adds the missing patch ports and removes stale ones on every bridge.
 * Returns true when it wrote something.
 */
export async function syncLocalnetPatches(
  ovs: OvsdbClient,
  want: readonly LocalnetPatch[],
  intBridge: string,
  log: (m: string) => void,
): Promise<boolean> {
  const byBridge = new Map<string, Array<{ name: string; peer: string; lp: string }>>();
  const add = (br: string, name: string, peer: string, lp: string): void => {
    const l = byBridge.get(br) ?? [];
    l.push({ name, peer, lp });
    byBridge.set(br, l);
  };
  for (const p of want) {
    add(intBridge, p.intPort, p.physPort, p.logicalPort);
    add(p.physicalBridge, p.physPort, p.intPort, p.logicalPort);
  }
  const txn = ovs.txn();
  for (const br of ovs.table('Bridge').values()) {
    const name = String(br.scalar('name'));
    const wanted = byBridge.get(name) ?? [];
    const have = bridgeInterfaces(ovs, name).filter((i) => i.portExternalIds.has(MARK));
    const remove = have.filter((i) => !wanted.some((w) => w.name === i.name && i.options.get('peer') === w.peer));
    const missing = wanted.filter((w) => !have.some((i) => i.name === w.name && i.options.get('peer') === w.peer));
    const muts: Array<[string, string, unknown]> = [];
    if (remove.length > 0) {
      for (const r of remove) log(`removing patch port ${r.name} from ${name}`);
      muts.push(['ports', 'delete', ['set', remove.map((r) => ['uuid', r.portUuid])]]);
    }
    if (missing.length > 0) {
      const refs = missing.map((m) => {
        log(`adding patch port ${m.name} to ${name}`);
        const iface = txn.insert('Interface', { name: m.name, type: 'patch', options: ['map', [['peer', m.peer]]] });
        return txn.insert('Port', { name: m.name, interfaces: iface, external_ids: ['map', [[MARK, m.lp]]] });
      });
      muts.push(['ports', 'insert', ['set', refs]]);
    }
    if (muts.length > 0) txn.mutate('Bridge', br.uuid, muts);
  }
  for (const b of byBridge.keys()) if (findBridge(ovs, b) === undefined) log(`bridge ${b} from ovn-bridge-mappings does not exist`);
  if (txn.size === 0) return false;
  await txn.commit();
  return true;
}
