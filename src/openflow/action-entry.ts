/**
 * The shape of one entry of the action table (action-table.ts): everything
 * ovnts knows about one action kind of ovs-actions(7) — how it is written
 * on the wire, which wire forms read back into it, how ovs-ofctl prints it
 * and which spellings of the ovs-ofctl syntax parse into it.
 */
import type { Action, ActionType } from './flow.js';
import type { Reader, Writer } from './codec/bytes.js';
import type { OxmOptions } from './codec/oxm.js';

/** The action of kind `K`. */
export type ActionOf<K extends ActionType> = Extract<Action, { readonly type: K }>;

/** What an entry's wire code needs from the codec around it: options and nested action lists (ct, clone). */
export interface WireContext {
  readonly opts: OxmOptions;
  encodeList(w: Writer, actions: readonly Action[]): void;
  /** Every action in `r`, to its end. */
  decodeList(r: Reader): Action[];
  /** One action of OpenFlow type `type` whose 4-byte header `r` has passed. */
  decodeOne(type: number, r: Reader): Action;
}

/** Nested action lists in text (ct's exec, clone). */
export interface TextContext {
  formatList(actions: readonly Action[]): string;
  parseList(s: string): Action[];
}

/**
 * A wire form that reads back into an action: OpenFlow action `type`, and
 * for Nicira actions (OFPAT_EXPERIMENTER) the NXAST `subtype`. `read` gets
 * the reader past the header (past the subtype for Nicira actions). One
 * kind may have several forms (NXAST_RESUBMIT, _TABLE, _TABLE_CT), and a
 * form may read into another kind: OVS reports `load` as `set_field`.
 */
export interface WireForm {
  readonly type: number;
  readonly subtype?: number;
  read(r: Reader, cx: WireContext): Action;
}

/**
 * The spellings of the ovs-ofctl syntax that parse into an action, by name:
 * `word` alone (`exit`, `IN_PORT`), `name:arg` (`group:5`), `name(body)`
 * (`ct(...)`) and `name(body)->tail` (`check_pkt_larger(N)->DST`). A parser
 * that returns undefined does not know the text (an "unknown action").
 */
export interface TextForms {
  readonly word?: Readonly<Record<string, () => Action>>;
  readonly colon?: Readonly<Record<string, (arg: string) => Action | undefined>>;
  readonly call?: Readonly<Record<string, (body: string, cx: TextContext) => Action | undefined>>;
  readonly arrow?: Readonly<Record<string, (body: string, tail: string) => Action | undefined>>;
}

/** One action kind: its wire encoder and readers, its printer and parsers. */
export interface ActionEntry<K extends ActionType> {
  encode(w: Writer, a: ActionOf<K>, cx: WireContext): void;
  /** Absent: the kind travels as another one (`load` and `set_tunnel` as set_field). */
  readonly decode?: readonly WireForm[];
  format(a: ActionOf<K>, cx: TextContext): string;
  readonly parse: TextForms;
}

/** The table's type: one entry for every kind of the Action union, so a kind without one does not compile. */
export type ActionTable = { readonly [K in ActionType]: ActionEntry<K> };
