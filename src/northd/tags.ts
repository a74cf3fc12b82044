/**
 * Container port tags (ovn-nb(5) Logical_Switch_Port `tag_request`, `tag`): a
 * nested port's VLAN tag is unique among the children of its parent only (seed 001:
 * the VLAN is local to the VM). Request 0 means "allocate": the lowest tag in
 * 1..4095 not used by a sibling; an allocated tag is kept for as long as the
 * request stays 0, so it survives northd restarts (it is read back from NB `tag`).
 * A port with no request keeps whatever `tag` the CMS set (seed 000 sets `tag`
 * directly), except when its request was just withdrawn: then the tag goes too.
 */
import type * as nb from '../ovsdb/models/ovn-nb.js';
import type { NbView, Uuid } from './nb-view.js';

export const MAX_TAG = 4095;

/**
 * The `tag` each nested port should have (null: none). Ports missing from the
 * result keep their tag. `withdrawn`: ports whose tag_request was removed.
 */
export function allocateTags(nbv: NbView, withdrawn: ReadonlySet<Uuid> = new Set()): Map<Uuid, number | null> {
  const out = new Map<Uuid, number | null>();
  const byParent = new Map<string, nb.Logical_Switch_Port[]>();
  for (const p of nbv.switchPorts.values()) {
    if (p.parent_name === null || nbv.switchOfPort(p._uuid) === undefined) continue;
    const l = byParent.get(p.parent_name);
    if (l === undefined) byParent.set(p.parent_name, [p]);
    else l.push(p);
  }
  for (const children of byParent.values()) {
    const used = new Set<number>();
    const toAllocate: nb.Logical_Switch_Port[] = [];
    // Fixed requests first, then tags already allocated; then new allocations.
    for (const p of children) {
      if (p.tag_request === null) {
        if (withdrawn.has(p._uuid)) out.set(p._uuid, null);
        else if (p.tag !== null) used.add(p.tag);
      } else if (p.tag_request > 0) {
        out.set(p._uuid, p.tag_request);
        used.add(p.tag_request);
      }
    }
    for (const p of children) {
      if (p.tag_request !== 0) continue;
      if (p.tag !== null && p.tag > 0 && !used.has(p.tag)) {
        out.set(p._uuid, p.tag);
        used.add(p.tag);
      } else toAllocate.push(p);
    }
    toAllocate.sort((a, b) => (a.name < b.name ? -1 : 1));
    let next = 1;
    for (const p of toAllocate) {
      while (next <= MAX_TAG && used.has(next)) next++;
      if (next > MAX_TAG) {
        out.set(p._uuid, null);
        continue;
      }
      out.set(p._uuid, next);
      used.add(next);
    }
  }
  return out;
}
