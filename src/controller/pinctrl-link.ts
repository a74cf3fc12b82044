/**
 * The pinctrl connection: a second OpenFlow 1.5 connection to the bridge's
 * management socket, as ovn-controller keeps one for pinctrl, that receives
 * the packets logical flows send up (NXT_PACKET_IN2, asked for with
 * NXT_SET_PACKET_IN_FORMAT) and answers them through the packet-in
 * dispatcher: NXT_RESUME of the paused pipeline, a packet-out, or a
 * MAC_Binding for the SB. A bad message or packet is counted and logged
 * (rate limited), never fatal; a lost connection is re-established.
 *
 * OVS sends asynchronous messages on a service connection (the `.mgmt`
 * socket) only after the controller set a nonzero miss_send_len
 * (ovs-vswitchd.conf.db(5) Controller; OFPT_SET_CONFIG).
 */
import { connect, type Socket } from 'node:net';
import {
  decodeMessage,
  encodeEchoReply,
  encodeHello,
  encodePacketOut,
  encodeSetConfig,
  encodeSetPacketInFormat,
  frameLength,
} from '../openflow/codec/messages.js';
import { decodeActions } from '../openflow/codec/actions.js';
import { Reader } from '../openflow/codec/bytes.js';
import { decodeOxmFields } from '../openflow/codec/oxm.js';
import { isPacketIn2, scanPacketIn2, type RawPacketIn2 } from '../openflow/codec/packet-in2-raw.js';
import { OFPP, type Action, type Match } from '../openflow/flow.js';
import { encodeResumeFor, handlePacketIn, PacketInStats } from './packet-in.js';
import type { MacBindingInput } from './pinctrl/mac-binding.js';

export interface PinctrlLinkOptions {
  /** The bridge's management socket, `<OVS_RUNDIR>/<bridge>.mgmt`. */
  readonly path: string;
  /** Where put_arp bindings go (the SB writer). */
  readonly onMacBinding?: (b: MacBindingInput) => void;
  /** Named logger. Default: silent. */
  readonly log?: (msg: string) => void;
  /** Reconnect delay in ms. Default 1000. */
  readonly reconnectMs?: number;
}

const EMPTY = Buffer.alloc(0);

export class PinctrlLink {
  private sock: Socket | undefined;
  private buf: Buffer = EMPTY;
  /** Every read lands here (net `onread`): no buffer allocated per read. */
  private readonly readBuf = Buffer.allocUnsafe(64 * 1024);
  /** The answers to the read being handled, written together once it is done. */
  private pending: Uint8Array[] | undefined;
  private xid = 1;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: (m: string) => void;
  readonly stats: PacketInStats;
  /** Packet-ins handled per verdict kind, and messages the switch refused. */
  readonly counters = { packetIns: 0, resumes: 0, packetOuts: 0, errors: 0 };

  constructor(private readonly opts: PinctrlLinkOptions) {
    this.log = opts.log ?? ((): void => undefined);
    this.stats = new PacketInStats(this.log);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.sock?.destroy();
    this.sock = undefined;
  }

  get connected(): boolean {
    return this.sock !== undefined && !this.sock.destroyed && this.sock.readyState === 'open';
  }

  private connect(): void {
    if (this.stopped) return;
    const onread = (n: number): boolean => {
      this.onData(this.readBuf.subarray(0, n));
      return true;
    };
    const s = connect({ path: this.opts.path, onread: { buffer: this.readBuf, callback: onread } });
    this.sock = s;
    this.buf = EMPTY;
    s.on('connect', () => {
      s.write(encodeHello(this.nextXid()));
      s.write(encodeSetConfig(this.nextXid(), 0, 0xffff));
      s.write(encodeSetPacketInFormat(this.nextXid(), 2));
      this.log(`pinctrl: connected to ${this.opts.path}`);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.sock === s) this.sock = undefined;
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.connect();
      }, this.opts.reconnectMs ?? 1000);
      this.timer.unref();
    });
  }

  private nextXid(): number {
    this.xid = (this.xid + 1) >>> 0 || 1;
    return this.xid;
  }

  private send(msg: Uint8Array): void {
    if (this.pending !== undefined) this.pending.push(msg);
    else this.sock?.write(msg);
  }

  /** `d` is a view of readBuf, overwritten by the next read: a partial message left over is copied. */
  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    // The answers to one read leave in one write instead of one syscall each.
    this.pending = [];
    try {
      this.takeMessages();
    } finally {
      const out = this.pending;
      this.pending = undefined;
      if (out.length > 0 && this.sock?.destroyed === false) this.sock.write(out.length === 1 ? out[0]! : Buffer.concat(out));
      if (this.buf.length === 0) this.buf = EMPTY;
      else if (this.buf.buffer === this.readBuf.buffer) this.buf = Buffer.from(this.buf);
    }
  }

  private takeMessages(): void {
    for (;;) {
      let len: number | undefined;
      try {
        len = frameLength(this.buf, 0);
      } catch (e) {
        this.log(`pinctrl: bad OpenFlow framing (${(e as Error).message}); reconnecting`);
        this.sock?.destroy();
        return;
      }
      if (len === undefined || this.buf.length < len) return;
      const frame = this.buf.subarray(0, len);
      this.buf = this.buf.subarray(len);
      try {
        this.onMessage(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
      } catch (e) {
        this.counters.errors++;
        this.log(`pinctrl: message dropped: ${(e as Error).message}`);
      }
    }
  }

  private onMessage(frame: Uint8Array): void {
    // Packet-ins skip the generic decoder: their metadata is decoded only when a verdict needs it.
    if (isPacketIn2(frame)) {
      this.onPacketIn(scanPacketIn2(frame));
      return;
    }
    const m = decodeMessage(frame);
    switch (m.kind) {
      case 'echo_request':
        this.send(encodeEchoReply(m.xid, m.data));
        return;
      case 'error':
        this.counters.errors++;
        this.log(`pinctrl: switch error ${m.name}`);
        return;
      default:
        return;
    }
  }

  private onPacketIn(pin: RawPacketIn2): void {
    this.counters.packetIns++;
    if (pin.userdata === undefined) return;
    let decoded: Match | undefined;
    const metadata = (): Match => (decoded ??= decodeOxmFields(new Reader(pin.metadata, 0, pin.metadata.length, 'packet-in2 metadata')));
    const v = handlePacketIn({ packet: pin.packet, userdata: pin.userdata, fields: () => new Map(metadata().map((f) => [f.field, f.value])) });
    this.stats.record(v);
    switch (v.kind) {
      case 'resume': {
        if (pin.continuation === undefined) {
          this.log('pinctrl: resume wanted but the packet-in has no continuation');
          return;
        }
        this.send(encodeResumeFor(this.nextXid(), pin, v.packet, v.set));
        this.counters.resumes++;
        return;
      }
      case 'packet-out': {
        const nested = decodeActions(new Reader(v.actions, 0, v.actions.length, 'nested actions'));
        // The logical fields of the packet-in first, then the action's nested actions.
        const reload: Action[] = metadata()
          .filter((f) => f.field !== 'in_port')
          .map((f) => ({ type: 'set_field', field: f.field, value: f.value }) as Action);
        const inPort = Number(v.fields.get('in_port') ?? BigInt(OFPP.CONTROLLER));
        this.send(encodePacketOut(this.nextXid(), v.packet, [...reload, ...nested], inPort));
        this.counters.packetOuts++;
        return;
      }
      case 'mac-binding':
        this.opts.onMacBinding?.(v.binding);
        return;
      case 'drop':
        return;
    }
  }
}
