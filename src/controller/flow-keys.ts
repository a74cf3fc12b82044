/**
 * How ofctrl tells flows of the flow model (openflow/flow.ts) apart: a flow's
 * identity (table, priority, match) as a compact key built from the model
 * once per flow object, its content (cookie, actions) as the switch reports
 * it back, and a cheap comparison of two flows the computation built.
 *
 * The identity is the canonical match (normalizeMatch: canonical fields, each
 * once, in one order, all-ones masks dropped), so a flow read back from the
 * switch and the one the computation built for the same entry have the same
 * key, as their ovs-ofctl printing would be the same; it is not meant for
 * reading (formatFlow prints a flow).
 */
import { normalizeActions } from '../openflow/codec/actions.js';
import { formatActions } from '../openflow/flow-text.js';
import { normalizeMatch, type Flow } from '../openflow/flow.js';

/** Table, priority and match: what makes two flows the same entry of OVS's table. */
export function flowIdentity(f: Flow): string {
  let k = `${f.table} ${f.priority}`;
  for (const x of normalizeMatch(f.match)) {
    k += ` ${x.field}=${x.value.toString(16)}`;
    if (x.mask !== undefined) k += `/${x.mask.toString(16)}`;
  }
  return k;
}

/** Cookie and actions as the switch reports them back (load → set_field, xreg halves → regs…), so a dumped flow compares equal. */
export function flowContent(f: Flow): string {
  return `cookie=0x${f.cookie.toString(16)},actions=${formatActions(normalizeActions(f.actions))}`;
}

/**
 * Whether two values of the flow model are the same data: numbers, bigints,
 * strings and booleans by value, byte arrays byte by byte, arrays element by
 * element, objects key by key (a key set to undefined counts as absent).
 */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    return a.every((x, i) => x === b[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameData(x, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) if (!sameData(x[k], y[k])) return false;
  for (const k in y) if (!(k in x) && y[k] !== undefined) return false;
  return true;
}

/**
 * Whether two flows the computation built have the same content (cookie and
 * actions), compared on the model without printing either. Equal data prints
 * the same; different data almost always prints differently, and where it
 * would not (a redundant mask, another spelling of one action) the flow is
 * only replaced by an equal one.
 */
export function sameBuiltContent(a: Flow, b: Flow): boolean {
  return a.cookie === b.cookie && sameData(a.actions, b.actions);
}
