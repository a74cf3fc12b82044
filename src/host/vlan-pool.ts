/**
 * The VLAN pool of one VM (CONTAINERS.md §2.3): ids 1..4094, the ones in use
 * as a comma list under the bridge's `external_ids:vlans`. These are edits
 * for OvsDb.editBridgeIds, so a reservation is one verified transaction and
 * concurrent endpoint-creates never get the same tag.
 */
import type { IdsEdit } from './ovs-db.js';

export const VLAN_MIN = 1;
export const VLAN_MAX = 4094;
export const VLANS_KEY = 'vlans';

export class VlansExhausted extends Error {
  constructor() {
    super('No more vlans available on this host');
    this.name = 'VlansExhausted';
  }
}

function parse(list: string | undefined): number[] {
  return (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number)
    .filter((n) => Number.isInteger(n));
}

/** The lowest free id, added to the list. */
export function reserveVlan(ids: ReadonlyMap<string, string>): { edit: IdsEdit; result: number } {
  const used = parse(ids.get(VLANS_KEY));
  const taken = new Set(used);
  for (let v = VLAN_MIN; v <= VLAN_MAX; v++) {
    if (!taken.has(v)) return { edit: { set: { [VLANS_KEY]: [...used, v].join(',') } }, result: v };
  }
  throw new VlansExhausted();
}

/** Removes `vlan` from the list (the key goes when the list is empty), plus any `extraRemove` keys. */
export function releaseVlan(
  ids: ReadonlyMap<string, string>,
  vlan: number,
  extraRemove: readonly string[] = [],
): { edit: IdsEdit; result: void } {
  const rest = parse(ids.get(VLANS_KEY)).filter((v) => v !== vlan);
  const edit: IdsEdit =
    rest.length === 0 ? { remove: [VLANS_KEY, ...extraRemove] } : { set: { [VLANS_KEY]: rest.join(',') }, remove: extraRemove };
  return { edit, result: undefined };
}
