/**
 * Datapath_Binding: one per logical switch and router, identified by the NB
 * row's UUID in external_ids. A datapath keeps the tunnel key it already has
 * in the SB (so keys survive northd restarts and failovers); a new one takes
 * `requested-tnl-key` or the lowest free key.
 */
import type { Row } from '../../ovsdb/client.js';
import { map, type DesiredRow, syncTable } from './rows.js';
import { keyAllocator, type SbPass } from './sb-pass.js';

/** Largest datapath tunnel key with Geneve (24 bits, less the range OVN keeps for itself). */
export const MAX_DP_KEY = 16711680;

export interface Datapaths {
  /** NB switch/router UUID → SB Datapath_Binding UUID (or uuid-name when inserted in this pass). */
  readonly sbOf: Map<string, string>;
  /** SB Datapath_Binding UUID → NB switch/router UUID. */
  readonly nbOf: Map<string, string>;
  /** NB switch/router UUID → the datapath's tunnel key. */
  readonly keyOf: Map<string, number>;
}

function requestedKey(opts: ReadonlyMap<string, string>): number | undefined {
  const v = Number(opts.get('requested-tnl-key') ?? NaN);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

export function syncDatapaths(p: SbPass): Datapaths {
  const { nbv, sb } = p;
  const dpKeyOf = (r: Row): string | undefined => {
    const ids = r.map('external_ids');
    const ls = ids.get('logical-switch');
    if (typeof ls === 'string' && nbv.switches.has(ls)) return ls;
    const lr = ids.get('logical-router');
    if (typeof lr === 'string' && nbv.routers.has(lr)) return lr;
    return typeof ls === 'string' || typeof lr === 'string' ? `gone:${r.uuid}` : undefined;
  };
  const used = new Set<number>();
  const existing = new Map<string, number>();
  for (const r of sb.table('Datapath_Binding').values()) {
    const k = dpKeyOf(r);
    const tk = Number(r.scalar('tunnel_key'));
    if (k !== undefined && !k.startsWith('gone:') && !existing.has(k)) {
      existing.set(k, tk);
      used.add(tk);
    }
  }
  const nextKey = keyAllocator(used, MAX_DP_KEY);
  const want = new Map<string, DesiredRow>();
  const keyOf = new Map<string, number>();
  let n = 0;
  const add = (uuid: string, kind: 'logical-switch' | 'logical-router', name: string, other: ReadonlyMap<string, string>): void => {
    const key = existing.get(uuid) ?? requestedKey(other) ?? nextKey();
    if (key === undefined) return;
    keyOf.set(uuid, key);
    want.set(uuid, { cols: { external_ids: map({ [kind]: uuid, name }), tunnel_key: key }, uuidName: `dp${n++}` });
  };
  for (const ls of nbv.switches.values()) add(ls._uuid, 'logical-switch', ls.name, ls.other_config);
  for (const lr of nbv.routers.values()) add(lr._uuid, 'logical-router', lr.name, lr.options);
  const sbOf = syncTable(sb, p.txn, 'Datapath_Binding', want, dpKeyOf, true, p.memo('Datapath_Binding'));
  const nbOf = new Map<string, string>();
  for (const [nbUuid, id] of sbOf) nbOf.set(id, nbUuid);
  return { sbOf, nbOf, keyOf };
}
