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
 * (ovs-vswitchd.conf.db(5) Controller; OFPT_SET_CONFIG). The socket, the
 * handshake, echo and reconnection are openflow/connection.ts's.
 */
import { OpenFlowConnection } from '../openflow/connection.js';
import { encodePacketOut } from '../openflow/codec/messages.js';
import { decodeActions } from '../openflow/codec/actions.js';
import { Reader } from '../openflow/codec/bytes.js';
import { decodeOxmFields } from '../openflow/codec/oxm.js';
import { scanPacketIn2, type RawPacketIn2 } from '../openflow/codec/packet-in2-raw.js';
import { OFPP, type Action, type Match } from '../openflow/flow.js';
import { encodeResumeFor, handlePacketIn, PacketInStats } from './packet-in.js';
import type { MacBindingInput } from './pinctrl/mac-binding.js';
import type { ControllerMetrics } from './controller-metrics.js';

export interface PinctrlLinkOptions {
  /** The bridge's management socket, `<OVS_RUNDIR>/<bridge>.mgmt`. */
  readonly path: string;
  /** Where put_arp bindings go (the SB writer). */
  readonly onMacBinding?: (b: MacBindingInput) => void;
  /** Named logger. Default: silent. */
  readonly log?: (msg: string) => void;
  /** First reconnect delay in ms (doubled per failure, up to 4 s). Default 100. */
  readonly reconnectMs?: number;
  /** Where packet-ins and DHCP replies are counted. Default: not counted. */
  readonly metrics?: ControllerMetrics;
}

/**
 * pinctrl over an {@link OpenFlowConnection} with its raw packet-in hook:
 * NXT_PACKET_IN2 frames are read in place (codec/packet-in2-raw.ts) and the
 * answers to one read leave in one write.
 */
export class PinctrlLink {
  private readonly conn: OpenFlowConnection;
  private readonly log: (m: string) => void;
  readonly stats: PacketInStats;
  /** Packet-ins handled per verdict kind, and messages the switch refused or that could not be handled. */
  readonly counters = { packetIns: 0, resumes: 0, packetOuts: 0, errors: 0 };

  constructor(private readonly opts: PinctrlLinkOptions) {
    this.log = opts.log ?? ((): void => undefined);
    this.stats = new PacketInStats(this.log);
    this.conn = new OpenFlowConnection({
      target: `unix:${opts.path}`,
      packetIn2: true,
      asyncMessages: true,
      ...(opts.reconnectMs === undefined ? {} : { backoffMinMs: opts.reconnectMs }),
      log: (m) => this.log(`pinctrl: ${m}`),
      onRawPacketIn2: (frame) => {
        try {
          this.onPacketIn(scanPacketIn2(frame));
        } catch (e) {
          this.counters.errors++;
          this.log(`pinctrl: message dropped: ${(e as Error).message}`);
        }
      },
    });
    this.conn.on('connected', () => this.log(`pinctrl: connected to ${opts.path}`));
    this.conn.on('error-message', (m: { name: string }) => {
      this.counters.errors++;
      this.log(`pinctrl: switch error ${m.name}`);
    });
  }

  start(): void {
    // Resolves on the first connection; the connection keeps retrying until then.
    this.conn.start().catch(() => undefined);
  }

  stop(): void {
    this.conn.stop().catch(() => undefined);
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  private onPacketIn(pin: RawPacketIn2): void {
    this.counters.packetIns++;
    if (pin.userdata === undefined) {
      this.opts.metrics?.packetIn(undefined, undefined);
      return;
    }
    let decoded: Match | undefined;
    const metadata = (): Match => (decoded ??= decodeOxmFields(new Reader(pin.metadata, 0, pin.metadata.length, 'packet-in2 metadata')));
    const v = handlePacketIn({
      packet: pin.packet,
      userdata: pin.userdata,
      fields: () => new Map(metadata().map((f) => [f.field, f.value])),
    });
    this.stats.record(v);
    this.opts.metrics?.packetIn(pin.userdata, v);
    switch (v.kind) {
      case 'resume': {
        if (pin.continuation === undefined) {
          this.log('pinctrl: resume wanted but the packet-in has no continuation');
          return;
        }
        this.conn.send((xid) => encodeResumeFor(xid, pin, v.packet, v.set));
        this.counters.resumes++;
        return;
      }
      case 'packet-out': {
        const nested = decodeActions(new Reader(v.actions, 0, v.actions.length, 'nested actions'));
        // The logical fields of the packet-in first, then the action's nested actions.
        const reload: Action[] = metadata()
          .filter((f) => f.field !== 'in_port')
          .map((f) => ({ type: 'set_field', field: f.field, value: f.value }));
        const inPort = Number(v.fields.get('in_port') ?? BigInt(OFPP.CONTROLLER));
        this.conn.send((xid) => encodePacketOut(xid, v.packet, [...reload, ...nested], inPort));
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
