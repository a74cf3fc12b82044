/**
 * `controller` (ovs-actions(7) "The controller action"): a plain
 * OFPAT_OUTPUT to CONTROLLER when only max_len is set (what OVS sends for
 * it too), NXAST_CONTROLLER2 with properties otherwise; NXAST_CONTROLLER
 * is read as well.
 */
import type { ActionEntry, ActionOf } from './action-entry.js';
import { FlowModelError, OFPP, PACKET_IN_REASON, type PacketInReason } from './flow.js';
import { OpenFlowCodecError, takeProperty, writeProperty } from './codec/bytes.js';
import { NXAST, OFPAT, finish, nxForm, nxStart } from './codec/action-wire.js';
import { formatBytes, parseBytes, splitTop } from './text-values.js';

/** NXAST_CONTROLLER2 property types. */
const NXAC2PT = { MAX_LEN: 0, CONTROLLER_ID: 1, REASON: 2, USERDATA: 3, PAUSE: 4, METER_ID: 5 } as const;

type ControllerAction = ActionOf<'controller'>;
type ControllerBuilder = { -readonly [K in keyof ControllerAction]: ControllerAction[K] };

function reasonName(n: number): PacketInReason {
  for (const [k, v] of Object.entries(PACKET_IN_REASON)) if (v === n) return k as PacketInReason;
  throw new OpenFlowCodecError(`packet-in reason ${n}: unknown`);
}

/** The action with OVS's defaults (max_len 65535, id 0, reason action, no userdata) left out. */
function controllerAction(
  maxLen: number,
  id: number,
  reason: PacketInReason,
  userdata: Uint8Array | undefined,
  pause: boolean,
  meterId: number | undefined,
): ControllerAction {
  const a: ControllerBuilder = { type: 'controller' };
  if (maxLen !== 0xffff) a.maxLen = maxLen;
  if (id !== 0) a.id = id;
  if (reason !== 'action') a.reason = reason;
  if (userdata !== undefined && userdata.length > 0) a.userdata = userdata;
  if (pause) a.pause = true;
  if (meterId !== undefined) a.meterId = meterId;
  return a;
}

function parseController(body: string): ControllerAction {
  const a: ControllerBuilder = { type: 'controller' };
  for (const arg of splitTop(body)) {
    const [k, v = ''] = arg.split('=') as [string, string | undefined];
    if (k === 'pause') a.pause = true;
    else if (k === 'max_len') a.maxLen = Number(v);
    else if (k === 'id') a.id = Number(v);
    else if (k === 'meter_id') a.meterId = Number(v);
    else if (k === 'userdata') a.userdata = parseBytes(v);
    else if (k === 'reason') {
      if (!(v in PACKET_IN_REASON)) throw new FlowModelError(`controller: unknown reason ${v}`);
      a.reason = v as PacketInReason;
    } else throw new FlowModelError(`controller: unknown argument ${arg}`);
  }
  if (a.maxLen === 65535) delete a.maxLen;
  if (a.reason === 'action') delete a.reason;
  if (a.id === 0) delete a.id;
  return a;
}

export const CONTROLLER: ActionEntry<'controller'> = {
  encode(w, a) {
    const simple = a.id === undefined && a.reason === undefined && a.userdata === undefined && a.pause !== true && a.meterId === undefined;
    if (simple) {
      w.u16(OFPAT.OUTPUT)
        .u16(16)
        .u32(OFPP.CONTROLLER)
        .u16(a.maxLen ?? 0xffff)
        .zeros(6);
      return;
    }
    const s = nxStart(w, NXAST.CONTROLLER2);
    w.zeros(6);
    if (a.maxLen !== undefined && a.maxLen !== 0xffff) writeProperty(w, NXAC2PT.MAX_LEN, (w) => w.u16(a.maxLen ?? 0));
    if (a.id !== undefined && a.id !== 0) writeProperty(w, NXAC2PT.CONTROLLER_ID, (w) => w.u16(a.id ?? 0));
    if (a.reason !== undefined && a.reason !== 'action')
      writeProperty(w, NXAC2PT.REASON, (w) => w.u8(PACKET_IN_REASON[a.reason ?? 'action']));
    if (a.userdata !== undefined && a.userdata.length > 0) writeProperty(w, NXAC2PT.USERDATA, (w) => w.raw(a.userdata ?? new Uint8Array()));
    if (a.pause === true) writeProperty(w, NXAC2PT.PAUSE, () => {});
    if (a.meterId !== undefined) writeProperty(w, NXAC2PT.METER_ID, (w) => w.u32(a.meterId ?? 0));
    finish(w, s);
  },
  // OFPAT_OUTPUT to CONTROLLER is read by the output entry.
  decode: [
    nxForm(NXAST.CONTROLLER, (r) => {
      const maxLen = r.u16();
      const id = r.u16();
      const reason = reasonName(r.u8());
      return controllerAction(maxLen, id, reason, undefined, false, undefined);
    }),
    nxForm(NXAST.CONTROLLER2, (r) => {
      r.skip(6);
      let maxLen = 0xffff;
      let id = 0;
      let reason: PacketInReason = 'action';
      let userdata: Uint8Array | undefined;
      let pause = false;
      let meterId: number | undefined;
      while (r.left > 0) {
        const { type: pt, body: pr } = takeProperty(r, 'controller');
        if (pt === NXAC2PT.MAX_LEN) maxLen = pr.u16();
        else if (pt === NXAC2PT.CONTROLLER_ID) id = pr.u16();
        else if (pt === NXAC2PT.REASON) reason = reasonName(pr.u8());
        else if (pt === NXAC2PT.USERDATA) userdata = pr.bytes(pr.left);
        else if (pt === NXAC2PT.PAUSE) pause = true;
        else if (pt === NXAC2PT.METER_ID) meterId = pr.u32();
        else throw new OpenFlowCodecError(`controller property ${pt}: unknown`);
      }
      return controllerAction(maxLen, id, reason, userdata, pause, meterId);
    }),
  ],
  format(a) {
    const parts: string[] = [];
    if (a.reason !== undefined && a.reason !== 'action') parts.push(`reason=${a.reason}`);
    if (a.maxLen !== undefined && a.maxLen !== 0xffff) parts.push(`max_len=${a.maxLen}`);
    if (a.id !== undefined && a.id !== 0) parts.push(`id=${a.id}`);
    if (a.userdata !== undefined && a.userdata.length > 0) parts.push(`userdata=${formatBytes(a.userdata)}`);
    if (a.pause === true) parts.push('pause');
    if (a.meterId !== undefined) parts.push(`meter_id=${a.meterId}`);
    if (parts.length === 0 || (parts.length === 1 && a.maxLen !== undefined && parts[0] === `max_len=${a.maxLen}`))
      return `CONTROLLER:${a.maxLen ?? 65535}`;
    return `controller(${parts.join(',')})`;
  },
  parse: {
    word: { controller: () => ({ type: 'controller' }), CONTROLLER: () => ({ type: 'controller' }) },
    colon: {
      CONTROLLER: (n) =>
        !/^\d+$/.test(n) ? undefined : Number(n) === 65535 ? { type: 'controller' } : { type: 'controller', maxLen: Number(n) },
    },
    call: { controller: (body) => parseController(body) },
  },
};
