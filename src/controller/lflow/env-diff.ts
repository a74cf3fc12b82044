/**
 * What a logical flow's translation can depend on besides its own row, named
 * as dependency keys, and which of them differ between two environments.
 *
 * A translation records the keys it read (translate.ts `TrackDep`); after a
 * change of the SB or of the local facts, {@link envChanges} lists the keys
 * whose answer changed, and only the logical flows that read one of them are
 * translated again (the incremental processing ovn-controller(8) does for
 * its logical flows). A key covers a lookup whether it found something or
 * not, so a port that appears makes the flows that looked for it stale.
 */

interface DatapathFacts {
  readonly key: number;
  readonly isSwitch: boolean;
}

/**
 * The lookups a translation environment answers, which {@link envChanges}
 * compares. Declared here, and extended by translate.ts's `LflowEnv`, so that
 * this file does not import translate.ts (which imports it).
 */
export interface EnvLookups {
  readonly datapaths: ReadonlyMap<string, DatapathFacts>;
  /** Datapath UUIDs with flows on this chassis. */
  readonly localDatapaths: ReadonlySet<string>;
  /** Logical port and multicast group tunnel keys, per datapath UUID, by name. */
  readonly portKeys: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Logical ports bound to this chassis (for `is_chassis_resident`). */
  readonly residentPorts: ReadonlySet<string>;
  readonly addressSets: ReadonlyMap<string, readonly string[]>;
  readonly portGroups: ReadonlyMap<string, readonly string[]>;
  /** Datapath group UUID → datapath UUIDs. */
  readonly dpGroups: ReadonlyMap<string, readonly string[]>;
  /** Port_Binding type by logical port. */
  readonly portTypes: ReadonlyMap<string, string>;
  /** Tunnel keys of VIFs bound elsewhere (or nowhere), per datapath UUID: their packets never enter or leave here. */
  readonly remoteVifKeys: ReadonlyMap<string, ReadonlySet<number>>;
}

/** Dependency keys, one per lookup an environment ({@link EnvLookups}) answers. */
export const DEP = {
  /** A datapath's tunnel key and kind, and whether it is local. */
  datapath: (uuid: string): string => `D${uuid}`,
  /** The datapaths of a Logical_DP_Group. */
  dpGroup: (uuid: string): string => `G${uuid}`,
  /** A logical port's Port_Binding type (or its absence). */
  portType: (name: string): string => `T${name}`,
  /** Whether a logical port is resident on this chassis. */
  resident: (name: string): string => `R${name}`,
  /** The tunnel key of a port or multicast group name in a datapath. */
  portKey: (dp: string, name: string): string => `K${dp}/${name}`,
  addressSet: (name: string): string => `A${name}`,
  portGroup: (name: string): string => `P${name}`,
  /** Whether tunnel key `key` of datapath `dp` is a VIF bound elsewhere. */
  remoteVif: (dp: string, key: number): string => `V${dp}/${key}`,
} as const;

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Keys of `a` and `b` whose values differ (by `same`), as dependency keys. */
function diffMaps<V>(
  a: ReadonlyMap<string, V>,
  b: ReadonlyMap<string, V>,
  same: (x: V, y: V) => boolean,
  dep: (k: string) => string,
  out: Set<string>,
): void {
  if (a === b) return;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || !same(v, w)) out.add(dep(k));
  }
  for (const k of b.keys()) if (!a.has(k)) out.add(dep(k));
}

function diffSets<T>(a: ReadonlySet<T>, b: ReadonlySet<T>, dep: (k: T) => string, out: Set<string>): void {
  if (a === b) return;
  for (const k of a) if (!b.has(k)) out.add(dep(k));
  for (const k of b) if (!a.has(k)) out.add(dep(k));
}

const sameDp = (x: DatapathFacts, y: DatapathFacts): boolean => x.key === y.key && x.isSwitch === y.isSwitch;

/** The dependency keys whose answer differs between environment `a` and `b`. */
export function envChanges(a: EnvLookups, b: EnvLookups): Set<string> {
  const out = new Set<string>();
  diffMaps(a.datapaths, b.datapaths, sameDp, DEP.datapath, out);
  diffSets(a.localDatapaths, b.localDatapaths, DEP.datapath, out);
  diffMaps(a.dpGroups, b.dpGroups, sameList, DEP.dpGroup, out);
  diffMaps(a.portTypes, b.portTypes, (x, y) => x === y, DEP.portType, out);
  diffSets(a.residentPorts, b.residentPorts, DEP.resident, out);
  diffMaps(a.addressSets, b.addressSets, sameList, DEP.addressSet, out);
  diffMaps(a.portGroups, b.portGroups, sameList, DEP.portGroup, out);
  const empty = new Map<string, number>();
  for (const dp of new Set([...a.portKeys.keys(), ...b.portKeys.keys()])) {
    diffMaps(
      a.portKeys.get(dp) ?? empty,
      b.portKeys.get(dp) ?? empty,
      (x, y) => x === y,
      (n) => DEP.portKey(dp, n),
      out,
    );
  }
  const none = new Set<number>();
  for (const dp of new Set([...a.remoteVifKeys.keys(), ...b.remoteVifKeys.keys()])) {
    diffSets(a.remoteVifKeys.get(dp) ?? none, b.remoteVifKeys.get(dp) ?? none, (k) => DEP.remoteVif(dp, k), out);
  }
  return out;
}
