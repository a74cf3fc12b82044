/**
 * Action lists on the wire: OpenFlow 1.5 actions (OpenFlow 1.5 §7.2.5) and
 * the Nicira extension actions OVN's pipeline uses (experimenter
 * 0x00002320; ovs-actions(7) names each one and its NXAST_* form). Each
 * action's encoder and readers are its entry in the action table
 * (../action-table.ts); this module walks lists and dispatches.
 *
 * `load` and `set_tunnel` are written as OFPAT_SET_FIELD, so a decoded
 * action list contains `set_field` where `load` was sent; compare through
 * {@link normalizeActions}.
 */
import type { Action } from '../flow.js';
import type { ActionOf, WireContext, WireForm } from '../action-entry.js';
import { ACTIONS } from '../action-table.js';
import { OpenFlowCodecError, Reader, Writer } from './bytes.js';
import type { OxmOptions } from './oxm.js';
import { NX_VENDOR_ID, OFPAT, takeAction } from './action-wire.js';

/** Map key of a wire form: the OpenFlow type, or 0x10000 + the NXAST subtype. */
function formKey(type: number, subtype: number | undefined): number {
  return subtype === undefined ? type : 0x10000 + subtype;
}

/** Every wire form of the table, by key; two entries claiming one form is a bug caught at load. */
const WIRE_FORMS: ReadonlyMap<number, WireForm> = (() => {
  const m = new Map<number, WireForm>();
  for (const entry of Object.values(ACTIONS)) {
    for (const form of entry.decode ?? []) {
      const key = formKey(form.type, form.subtype);
      if (m.has(key)) throw new Error(`action table: two entries read wire form 0x${key.toString(16)}`);
      m.set(key, form);
    }
  }
  return m;
})();

function wireContext(opts: OxmOptions): WireContext {
  const cx: WireContext = {
    opts,
    encodeList: (w, actions) => {
      for (const a of actions) encodeAction(w, a, cx);
    },
    decodeList: (r) => decodeList(r, cx),
    decodeOne: (type, r) => decodeAction(type, r, cx),
  };
  return cx;
}

function encodeAction<K extends Action['type']>(w: Writer, a: ActionOf<K>, cx: WireContext): void {
  (ACTIONS[a.type] as { encode(w: Writer, a: ActionOf<K>, cx: WireContext): void }).encode(w, a, cx);
}

/** Appends the encoding of `actions`. */
export function encodeActions(w: Writer, actions: readonly Action[], opts: OxmOptions = {}): void {
  wireContext(opts).encodeList(w, actions);
}

/** Decodes every action in `r` (to its end). */
export function decodeActions(r: Reader): Action[] {
  return decodeList(r, wireContext({}));
}

function decodeList(r: Reader, cx: WireContext): Action[] {
  const out: Action[] = [];
  while (r.left > 0) {
    const { type, body } = takeAction(r);
    body.skip(4);
    out.push(decodeAction(type, body, cx));
  }
  return out;
}

/** One action of OpenFlow type `type`; `r` is past its 4-byte header. */
function decodeAction(type: number, r: Reader, cx: WireContext): Action {
  if (type !== OFPAT.EXPERIMENTER) {
    const form = WIRE_FORMS.get(formKey(type, undefined));
    if (form === undefined) throw new OpenFlowCodecError(`action type ${type}: unsupported`);
    return form.read(r, cx);
  }
  const vendor = r.u32();
  if (vendor !== NX_VENDOR_ID) throw new OpenFlowCodecError(`experimenter action 0x${vendor.toString(16)}: unsupported`);
  const subtype = r.u16();
  const form = WIRE_FORMS.get(formKey(type, subtype));
  if (form === undefined) throw new OpenFlowCodecError(`Nicira action subtype ${subtype}: unsupported`);
  return form.read(r, cx);
}

/**
 * The form in which OVS reports `actions` back: `load` and `set_tunnel` as
 * `set_field`, register halves of xreg/xxreg set_fields as single registers,
 * note data padded as on the wire. Two action lists mean the same when
 * their normalized forms are deep-equal.
 */
export function normalizeActions(actions: readonly Action[], opts: OxmOptions = {}): Action[] {
  const w = new Writer();
  encodeActions(w, actions, opts);
  const b = w.bytes();
  return decodeActions(new Reader(b, 0, b.length, 'actions'));
}
