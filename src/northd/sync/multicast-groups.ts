/**
 * Multicast_Group: per switch, `_MC_flood` (every enabled port), `_MC_flood_l2`
 * (those that are not router ports) and `_MC_unknown` (ports with the
 * `unknown` address), with OVN's reserved tunnel keys. A switch whose ports
 * and their bindings did not change reuses last pass's rows.
 */
import type * as nb from '../../ovsdb/models/ovn-nb.js';
import type { Uuid } from '../nb-view.js';
import { isUuid, ref, set, str, syncTable, type DesiredRow } from './rows.js';
import { sameList, type SbPass } from './sb-pass.js';
import type { Datapaths } from './datapaths.js';

const MC_FLOOD = 32768;
const MC_UNKNOWN = 32769;
const MC_FLOOD_L2 = 32772;

/** Last pass's rows by switch UUID, with what they were built from. */
export type MulticastGroupCache = Map<
  Uuid,
  {
    dp: string;
    ids: ReadonlyArray<string | undefined>;
    lsps: ReadonlyArray<nb.Logical_Switch_Port | undefined>;
    rows: Array<[string, DesiredRow]>;
  }
>;

/** True when two versions of an LSP give the same Multicast_Group membership. */
function sameGroupInputs(a: nb.Logical_Switch_Port | undefined, b: nb.Logical_Switch_Port | undefined): boolean {
  return (
    a === b ||
    (a !== undefined &&
      b !== undefined &&
      a.name === b.name &&
      a.enabled === b.enabled &&
      a.type === b.type &&
      sameList(a.addresses, b.addresses))
  );
}

/** `pbIds`: each logical port name's Port_Binding UUID (or uuid-name), from syncPortBindings. */
export function syncMulticastGroups(p: SbPass, dps: Datapaths, pbIds: ReadonlyMap<string, string>, cache: MulticastGroupCache): void {
  const { nbv } = p;
  if (cache.size > nbv.switches.size) for (const u of cache.keys()) if (!nbv.switches.has(u)) cache.delete(u);
  const want = new Map<string, DesiredRow>();
  for (const ls of nbv.switches.values()) {
    const dp = dps.sbOf.get(ls._uuid);
    if (dp === undefined) continue;
    const lsps = ls.ports.map((u) => nbv.switchPorts.get(u));
    const ids = lsps.map((lsp) => (lsp === undefined ? undefined : pbIds.get(lsp.name)));
    const known = cache.get(ls._uuid);
    if (
      known !== undefined &&
      known.dp === dp &&
      known.ids.length === ids.length &&
      known.ids.every((x, i) => x === ids[i] && sameGroupInputs(known.lsps[i], lsps[i]))
    ) {
      for (const [k, row] of known.rows) want.set(k, row);
      continue;
    }
    const rows: Array<[string, DesiredRow]> = [];
    const all: unknown[] = [];
    const l2: unknown[] = [];
    const unknown: unknown[] = [];
    lsps.forEach((lsp, i) => {
      const id = ids[i];
      if (lsp === undefined || id === undefined || lsp.enabled === false) return;
      all.push(ref(id));
      if (lsp.type !== 'router') l2.push(ref(id));
      if (lsp.addresses.includes('unknown')) unknown.push(ref(id));
    });
    const group = (name: string, key: number, ports: unknown[]): void => {
      const cols = { datapath: ref(dp), name, tunnel_key: key, ports: set(ports) };
      rows.push([`${ls._uuid}\u0000${name}`, { cols, text: JSON.stringify(cols) }]);
    };
    group('_MC_flood', MC_FLOOD, all);
    group('_MC_flood_l2', MC_FLOOD_L2, l2);
    if (unknown.length > 0) group('_MC_unknown', MC_UNKNOWN, unknown);
    for (const [k, row] of rows) want.set(k, row);
    // Rows naming rows inserted in this transaction are not kept: next time they have UUIDs.
    if (isUuid(dp) && ids.every((x) => x === undefined || isUuid(x))) cache.set(ls._uuid, { dp, ids, lsps, rows });
  }
  syncTable(
    p.sb,
    p.txn,
    'Multicast_Group',
    want,
    (r) => {
      const dpNb = dps.nbOf.get(str(r, 'datapath'));
      return dpNb === undefined ? `gone:${r.uuid}` : `${dpNb}\u0000${str(r, 'name')}`;
    },
    true,
    p.memo('Multicast_Group'),
  );
}
