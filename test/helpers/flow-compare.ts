/**
 * Comparing OpenFlow tables in ovs-ofctl syntax: a bridge's table as
 * `ovs-ofctl dump-flows` prints it, one flow as a key without cookie or
 * counters (match fields sorted), conjunction ids renamed by what their
 * `conj_id` flow is (two sides may pick different ids for the same flows).
 */
import { parseDumpLine, textFlowIdentity, type TextFlow } from '../../src/controller/ofctl-link.js';
import type { OvsInstance } from './ovs.js';

/** One flow without its cookie, match fields sorted. */
export const flowKey = (f: TextFlow): string => `${textFlowIdentity(f)} actions=${f.actions}`;

/** The bridge's flows (OpenFlow 1.5, no counters). */
export async function dumpFlows(ovs: OvsInstance, bridge = 'br-int'): Promise<TextFlow[]> {
  const out = await ovs.ofctl('-O', 'OpenFlow15', '--no-stats', 'dump-flows', bridge);
  return out.split('\n').flatMap((l) => {
    const f = parseDumpLine(l);
    return f === undefined ? [] : [f];
  });
}

/**
 * Waits until two dumps of the bridge half a second apart are equal and
 * `pred` holds of them: the controller filling it has settled (30 s at most).
 */
export async function settledFlows(ovs: OvsInstance, pred: (flows: TextFlow[]) => boolean, bridge = 'br-int'): Promise<void> {
  let prev = '';
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const flows = await dumpFlows(ovs, bridge);
    const now = flows.map(flowKey).sort().join('\n');
    if (now === prev && pred(flows)) return;
    prev = now;
  }
  throw new Error(`the flows on ${bridge} did not settle`);
}

/** Conjunction ids renamed `C<n>` by the sorted keys of their `conj_id` flows; conjunction actions sorted. */
export function canonConj(flows: readonly TextFlow[]): TextFlow[] {
  const label = new Map<string, string>();
  const keyed: [string, string][] = [];
  for (const f of flows) {
    const m = /(?:^|,)conj_id=(\d+)/.exec(f.match);
    if (m === null) continue;
    keyed.push([`${textFlowIdentity({ ...f, match: f.match.replace(/,?conj_id=\d+/, '') })} ${f.actions}`, m[1]!]);
  }
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).forEach(([, id], i) => label.set(id, `C${i}`));
  return flows.map((f) => ({
    ...f,
    match: f.match.replace(/conj_id=(\d+)/, (_, id: string) => `conj_id=${label.get(id) ?? id}`),
    actions: f.actions
      .replace(/conjunction\((\d+),/g, (_, id: string) => `conjunction(${label.get(id) ?? id},`)
      .split(/,(?=conjunction\()/)
      .sort()
      .join(','),
  }));
}

/** The table as sorted canonical keys. */
export function tableKeys(flows: readonly TextFlow[]): string[] {
  return canonConj(flows).map(flowKey).sort();
}

/** A readable difference of two key lists (empty when equal). */
export function keyDiff(a: readonly string[], b: readonly string[], names: [string, string] = ['a', 'b']): string {
  const A = new Set(a);
  const B = new Set(b);
  return [
    ...a.filter((k) => !B.has(k)).map((k) => `- ${names[0]}: ${k}`),
    ...b.filter((k) => !A.has(k)).map((k) => `+ ${names[1]}: ${k}`),
  ].join('\n');
}

/**
 * Sorted keys with OVN's `dec_ttl()` (an empty controller-id list) spelt
 * `dec_ttl`: installed through ovs-ofctl, or computed as text, it reads back
 * as `dec_ttl`; through the OpenFlow link as `dec_ttl()`.
 */
export function ttlKeys(keys: readonly string[]): string[] {
  return keys.map((k) => k.replaceAll('dec_ttl()', 'dec_ttl')).sort();
}
