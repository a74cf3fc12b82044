/**
 * An OpenFlow 1.5 connection to one switch (ovs-vswitchd's bridge management
 * socket `$OVS_RUNDIR/<bridge>.mgmt`, or tcp): version negotiation, xids,
 * request → reply promises (multipart replies aggregated), barriers, echo
 * replies and an inactivity probe, reconnection with backoff, events for
 * asynchronous messages, and atomic flow transactions in one bundle
 * (OpenFlow 1.5 §6.8 "Bundle Messages"; ovs-ofctl(8) `--bundle`).
 *
 * Events: 'connected' (features reply), 'disconnected' (reason),
 * 'packet-in2' (PacketIn2), 'port-status' (message), 'error-message' (an
 * unsolicited OpenFlow error message), 'message' (every decoded message).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Action, FlowMod, FlowStats, GroupMod, Match, MeterMod } from './flow.js';
import { OFPTT_ALL } from './flow.js';
import { OpenFlowCodecError } from './codec/bytes.js';
import {
  OFPBF,
  OFPT,
  decodeHeader,
  decodeMessage,
  encodeBarrierRequest,
  encodeBundleAdd,
  encodeBundleControl,
  encodeEchoReply,
  encodeEchoRequest,
  encodeFeaturesRequest,
  encodeFlowMod,
  encodeFlowStatsRequest,
  encodeGroupDescRequest,
  encodeGroupMod,
  encodeMeterMod,
  encodeHello,
  encodePacketOut,
  encodePortDescRequest,
  encodeResume,
  encodeSetConfig,
  encodeSetPacketInFormat,
  encodeTlvTableMod,
  encodeTlvTableRequest,
  frameLength,
  OFP_VERSION,
  type OfpMessage,
  type PacketIn2,
  type PortDesc,
  type GroupDesc,
  type TlvMap,
  NXTTMC,
} from './codec/messages.js';
import type { OxmOptions } from './codec/oxm.js';
import { isPacketIn2 } from './codec/packet-in2-raw.js';
import { rateLimitedLog } from '../lib/rate-limit.js';

/** An OpenFlow error reply, named as OVS names it (e.g. OFPBAC_BAD_OUT_PORT). */
export class OpenFlowError extends Error {
  override readonly name = 'OpenFlowError';
  constructor(
    readonly errorName: string,
    readonly type: number,
    readonly code: number,
    readonly data: Uint8Array,
    context: string,
    /** For an error about one message of a batch (a bundle's mods): its position, from 0. */
    readonly index?: number,
  ) {
    super(`${context}: ${errorName}`);
  }
}

/** The connection dropped while a request was outstanding, or was stopped. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
}

export interface OpenFlowConnectionOptions {
  /** `unix:PATH`, `tcp:HOST:PORT`, or a bare path (unix). Required. */
  readonly target: string;
  /** Idle time (ms) before an echo request; a second idle period without any message drops the connection. Default 5000; 0 disables. */
  readonly probeIntervalMs?: number;
  /** First reconnection delay (ms), doubled per failure. Default 100. */
  readonly backoffMinMs?: number;
  /** Longest reconnection delay (ms). Default 4000. */
  readonly backoffMaxMs?: number;
  /** Ask for NXT_PACKET_IN2 (needed for pause/continuations). Default true. */
  readonly packetIn2?: boolean;
  /**
   * Receive packet-ins and other asynchronous messages. Default true. OVS
   * sends them on a service connection only when its miss_send_len is
   * nonzero, so false keeps it 0: a flow-only connection then does not get
   * (and decode) a copy of every packet-in meant for pinctrl.
   */
  readonly asyncMessages?: boolean;
  /** Longest time (ms) a request waits for its reply. Default 30000. */
  readonly requestTimeoutMs?: number;
  /** Field widths that depend on switch state (tun_metadata). */
  readonly oxm?: OxmOptions;
  /** Named logger. Default: silent. */
  readonly log?: (msg: string) => void;
  /**
   * pinctrl's fast path: each NXT_PACKET_IN2 frame, undecoded (a view of the
   * read buffer, valid only during the call; codec/packet-in2-raw.ts reads
   * it). Whatever is sent during the call leaves in one write with the other
   * answers to the same read. Default: packet-ins are decoded and emitted as
   * 'packet-in2'.
   */
  readonly onRawPacketIn2?: (frame: Uint8Array) => void;
}

const EMPTY = Buffer.alloc(0);

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

interface Pending {
  resolve(m: OfpMessage[]): void;
  reject(e: Error): void;
  parts: OfpMessage[];
  context: string;
  timer: NodeJS.Timeout;
}

/** A feature reply's essentials. */
export interface SwitchFeatures {
  readonly datapathId: bigint;
  readonly nTables: number;
}

export class OpenFlowConnection extends EventEmitter {
  private readonly opts: Required<Omit<OpenFlowConnectionOptions, 'oxm' | 'log' | 'onRawPacketIn2'>> &
    Pick<OpenFlowConnectionOptions, 'oxm' | 'onRawPacketIn2'>;
  private readonly log: (msg: string) => void;
  private socket: net.Socket | undefined;
  /** Every read lands here (net `onread`): no buffer allocated per read. */
  private readonly readBuf = Buffer.allocUnsafe(64 * 1024);
  /** The start of a message the last read left incomplete (a copy, never a view of readBuf). */
  private buf: Buffer = EMPTY;
  /** While a read is handled: what it sends, written together once it is done. */
  private batch: Uint8Array[] | undefined;
  private nextXid = 1;
  private nextBundle = 1;
  private pending = new Map<number, Pending>();
  private running = false;
  private ready = false;
  private backoff: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private lastRx = 0;
  private probeSent = false;
  private waiters: { resolve(): void; reject(e: Error): void }[] = [];
  /** At most 10 lines a second (a burst of 10): a misbehaving switch cannot flood the log. */
  private readonly rateLimitedLog: (msg: string) => void;
  /** Features of the current connection. */
  features: SwitchFeatures | undefined;
  /** Connections made so far (1 after the first, +1 per reconnection). */
  connections = 0;
  /**
   * Bad input from the switch: messages that could not be decoded (dropped,
   * or the reply that failed its request), and connections closed because
   * the stream could not be read on (a length below the header, another
   * OpenFlow version than the one negotiated), as OVS's vconn closes them.
   */
  readonly counters = { badMessages: 0, protocolErrors: 0 };

  constructor(options: OpenFlowConnectionOptions) {
    super();
    this.opts = {
      target: options.target,
      probeIntervalMs: options.probeIntervalMs ?? 5000,
      backoffMinMs: options.backoffMinMs ?? 100,
      backoffMaxMs: options.backoffMaxMs ?? 4000,
      packetIn2: options.packetIn2 ?? true,
      asyncMessages: options.asyncMessages ?? true,
      requestTimeoutMs: options.requestTimeoutMs ?? 30000,
      ...(options.oxm === undefined ? {} : { oxm: options.oxm }),
      ...(options.onRawPacketIn2 === undefined ? {} : { onRawPacketIn2: options.onRawPacketIn2 }),
    };
    this.log = options.log ?? (() => {});
    this.rateLimitedLog = rateLimitedLog(this.log, 600, 10);
    this.backoff = this.opts.backoffMinMs;
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Starts connecting (and reconnecting); resolves once the first connection is ready. */
  async start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      this.connect();
    }
    await this.waitConnected();
  }

  /** Closes the connection and stops reconnecting; outstanding requests reject. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.dropConnection('stopped');
    for (const w of this.waiters.splice(0)) w.reject(new ConnectionClosedError('connection stopped'));
  }

  /** Resolves when a connection is ready (immediately if it is). */
  waitConnected(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private connect(): void {
    const t = this.opts.target;
    const onread = {
      buffer: this.readBuf,
      callback: (n: number): boolean => {
        if (sock === this.socket) this.onData(this.readBuf.subarray(0, n));
        return true;
      },
    };
    const tcp = /^tcp:(.+):(\d+)$/.exec(t);
    const sock: net.Socket =
      tcp !== null
        ? net.connect({ host: tcp[1] ?? '127.0.0.1', port: Number(tcp[2]), onread })
        : net.connect({ path: t.startsWith('unix:') ? t.slice(5) : t, onread });
    this.socket = sock;
    this.buf = EMPTY;
    this.nextXid = 1;
    sock.on('connect', () => {
      this.lastRx = Date.now();
      this.write(encodeHello(this.xid()));
      // A peer that never completes the handshake is treated like one that stopped answering.
      const limit = this.opts.probeIntervalMs > 0 ? 2 * this.opts.probeIntervalMs : this.opts.requestTimeoutMs;
      const t = setTimeout(() => {
        if (sock !== this.socket || this.ready) return;
        this.rateLimitedLog(`${this.opts.target}: no OpenFlow handshake within ${limit} ms; reconnecting`);
        this.dropConnection('handshake timeout');
        this.scheduleReconnect();
      }, limit);
      t.unref();
    });
    sock.on('error', (e) => {
      if (sock === this.socket) this.rateLimitedLog(`${t}: ${e.message}`);
    });
    sock.on('close', () => {
      if (sock !== this.socket) return;
      this.dropConnection('connection closed');
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer !== undefined) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.backoffMaxMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.running) this.connect();
    }, delay);
  }

  private dropConnection(reason: string): void {
    const wasReady = this.ready;
    this.ready = false;
    this.features = undefined;
    if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ConnectionClosedError(`${p.context}: ${reason}`));
    }
    this.pending.clear();
    if (wasReady) this.emit('disconnected', reason);
  }

  private xid(): number {
    const x = this.nextXid;
    this.nextXid = this.nextXid >= 0x7fffffff ? 1 : this.nextXid + 1;
    return x;
  }

  /** `d` is a view of readBuf, overwritten by the next read: a partial message left over is copied. */
  private onData(d: Buffer): void {
    this.lastRx = Date.now();
    this.probeSent = false;
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    // The answers to one read leave in one write instead of one syscall each.
    this.batch = [];
    try {
      for (;;) {
        let len: number | undefined;
        try {
          len = frameLength(this.buf, 0);
        } catch (e) {
          // A framing error leaves no way to find the next message: drop this connection only.
          this.counters.protocolErrors++;
          this.rateLimitedLog(`${this.opts.target}: ${(e as Error).message}; closing connection`);
          this.dropConnection('framing error');
          this.scheduleReconnect();
          return;
        }
        if (len === undefined || this.buf.length < len) break;
        const frame = this.buf.subarray(0, len);
        this.buf = this.buf.subarray(len);
        try {
          this.onFrame(frame);
        } catch (e) {
          // A listener that failed on one message must not take the connection (or the process) down.
          this.counters.badMessages++;
          this.rateLimitedLog(`${this.opts.target}: message type ${frame[1] ?? 0} dropped: ${(e as Error).message}`);
        }
        if (this.socket === undefined) return;
      }
    } finally {
      const out = this.batch;
      this.batch = undefined;
      if (out.length > 0 && this.socket !== undefined && !this.socket.destroyed)
        this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
      if (this.buf.length === 0 || this.socket === undefined) this.buf = EMPTY;
      else if (this.buf.buffer === this.readBuf.buffer) this.buf = Buffer.from(this.buf);
    }
  }

  private onFrame(frame: Buffer): void {
    if (this.ready && frame[0] !== OFP_VERSION) {
      // vconn's rule: after negotiation every message is of the agreed version, or the connection is dropped.
      this.counters.protocolErrors++;
      this.rateLimitedLog(
        `${this.opts.target}: received OpenFlow version 0x${hex2(frame[0] ?? 0)} != expected 0x${hex2(OFP_VERSION)}; closing`,
      );
      this.dropConnection('OpenFlow version mismatch');
      this.scheduleReconnect();
      return;
    }
    const raw = this.opts.onRawPacketIn2;
    if (raw !== undefined && this.ready && isPacketIn2(frame)) {
      try {
        raw(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
      } catch (e) {
        this.counters.badMessages++;
        this.rateLimitedLog(`${this.opts.target}: packet-in dropped: ${(e as Error).message}`);
      }
      return;
    }
    // Decoded messages may keep views of their bytes, and the read buffer is reused: a copy.
    this.onMessage(Uint8Array.from(frame));
  }

  private onMessage(raw: Uint8Array): void {
    const h = decodeHeader(raw);
    let msg: OfpMessage;
    try {
      msg = decodeMessage(raw);
    } catch (e) {
      const p = this.pending.get(h.xid);
      const err = e instanceof Error ? e : new Error(String(e));
      this.counters.badMessages++;
      if (p !== undefined) {
        this.pending.delete(h.xid);
        clearTimeout(p.timer);
        p.reject(new OpenFlowCodecError(`${p.context}: reply not understood: ${err.message}`));
      } else this.rateLimitedLog(`${this.opts.target}: dropped message type ${h.type}: ${err.message}`);
      return;
    }
    this.emit('message', msg);
    if (!this.ready) {
      this.handshake(msg, h.version);
      return;
    }
    switch (msg.kind) {
      case 'echo_request':
        this.write(encodeEchoReply(msg.xid, msg.data));
        return;
      case 'packet_in2':
        this.emit('packet-in2', msg.packetIn);
        return;
      case 'port_status':
        this.emit('port-status', msg);
        return;
      default:
        break;
    }
    const p = this.pending.get(msg.xid);
    if (p === undefined) {
      if (msg.kind === 'error') {
        this.rateLimitedLog(`${this.opts.target}: OpenFlow error ${msg.name} (xid ${msg.xid})`);
        this.emit('error-message', msg);
      }
      return;
    }
    if (msg.kind === 'error') {
      this.pending.delete(msg.xid);
      clearTimeout(p.timer);
      p.reject(new OpenFlowError(msg.name, msg.type, msg.code, msg.data, p.context));
      return;
    }
    p.parts.push(msg);
    if (
      (msg.kind === 'flow_stats_reply' ||
        msg.kind === 'port_desc_reply' ||
        msg.kind === 'group_desc_reply' ||
        msg.kind === 'multipart_reply') &&
      msg.more
    )
      return;
    this.pending.delete(msg.xid);
    clearTimeout(p.timer);
    p.resolve(p.parts);
  }

  private handshakeXid = 0;
  private handshake(msg: OfpMessage, version: number): void {
    if (msg.kind === 'hello') {
      if (!msg.versions.includes(OFP_VERSION)) {
        this.rateLimitedLog(`${this.opts.target}: switch does not speak OpenFlow 1.5 (version ${version}); closing`);
        this.dropConnection('version negotiation failed');
        this.scheduleReconnect();
        return;
      }
      this.handshakeXid = this.xid();
      this.write(encodeFeaturesRequest(this.handshakeXid));
      return;
    }
    if (msg.kind === 'echo_request') {
      this.write(encodeEchoReply(msg.xid, msg.data));
      return;
    }
    if (msg.kind === 'features_reply' && msg.xid === this.handshakeXid) {
      this.features = { datapathId: msg.datapathId, nTables: msg.nTables };
      if (this.socket === undefined) return;
      this.write(encodeSetConfig(this.xid(), 0, this.opts.asyncMessages ? 0xffff : 0));
      if (this.opts.packetIn2) this.write(encodeSetPacketInFormat(this.xid(), 2));
      this.ready = true;
      this.connections++;
      this.backoff = this.opts.backoffMinMs;
      this.startProbe();
      this.emit('connected', this.features);
      for (const w of this.waiters.splice(0)) w.resolve();
      return;
    }
    if (msg.kind === 'error') {
      this.rateLimitedLog(`${this.opts.target}: handshake error ${msg.name}`);
      this.dropConnection('handshake error');
      this.scheduleReconnect();
    }
  }

  private startProbe(): void {
    const iv = this.opts.probeIntervalMs;
    if (iv <= 0) return;
    this.probeTimer = setInterval(
      () => {
        if (Date.now() - this.lastRx < iv) return;
        if (this.probeSent) {
          this.rateLimitedLog(`${this.opts.target}: no response to inactivity probe; reconnecting`);
          this.dropConnection('inactivity probe timeout');
          this.scheduleReconnect();
          return;
        }
        this.probeSent = true;
        this.write(encodeEchoRequest(this.xid()));
      },
      Math.max(10, Math.floor(iv / 2)),
    );
    this.probeTimer.unref();
  }

  /** Writes now, or with the rest of the answers to the read being handled. */
  private write(bytes: Uint8Array): void {
    if (this.batch !== undefined) this.batch.push(bytes);
    else this.socket?.write(bytes);
  }

  private sendRaw(bytes: Uint8Array): void {
    if (!this.ready || this.socket === undefined) throw new ConnectionClosedError(`${this.opts.target}: not connected`);
    this.write(bytes);
  }

  /** Sends a message built for `xid` and waits for its reply (all parts of a multipart reply). */
  private request(build: (xid: number) => Uint8Array, context: string): Promise<OfpMessage[]> {
    if (!this.ready) return Promise.reject(new ConnectionClosedError(`${context}: not connected`));
    const xid = this.xid();
    const bytes = build(xid);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(xid);
        reject(new Error(`${context}: no reply within ${this.opts.requestTimeoutMs} ms`));
      }, this.opts.requestTimeoutMs);
      this.pending.set(xid, { resolve, reject, parts: [], context, timer });
      this.sendRaw(bytes);
    });
  }

  /** Sends without waiting; errors for it arrive as 'error-message' events. Returns the xid. */
  send(build: (xid: number) => Uint8Array): number {
    const xid = this.xid();
    this.sendRaw(build(xid));
    return xid;
  }

  /** OFPT_BARRIER_REQUEST → reply: everything sent before is done. */
  async barrier(): Promise<void> {
    await this.request(encodeBarrierRequest, 'barrier');
  }

  async echo(): Promise<void> {
    await this.request((x) => encodeEchoRequest(x), 'echo');
  }

  /** Every flow of `table` (default all tables), via multipart flow stats. */
  async dumpFlows(table = OFPTT_ALL, match: Match = []): Promise<FlowStats[]> {
    const parts = await this.request((x) => encodeFlowStatsRequest(x, table, match, this.opts.oxm), 'flow stats');
    return parts.flatMap((m) => (m.kind === 'flow_stats_reply' ? m.flows : []));
  }

  /** Every group (multipart group desc). */
  async dumpGroups(): Promise<GroupDesc[]> {
    const parts = await this.request(encodeGroupDescRequest, 'group desc');
    return parts.flatMap((m) => (m.kind === 'group_desc_reply' ? m.groups : []));
  }

  async portDesc(): Promise<PortDesc[]> {
    const parts = await this.request(encodePortDescRequest, 'port desc');
    return parts.flatMap((m) => (m.kind === 'port_desc_reply' ? m.ports : []));
  }

  /**
   * Sends one message and a barrier behind it: resolves once the switch has
   * handled the message, rejects with its error reply (OVS answers in order,
   * so an error for it arrives before the barrier reply).
   */
  private async sendConfirmed(build: (xid: number) => Uint8Array, context: string): Promise<void> {
    const xid = this.xid();
    const failed = this.watchErrors([xid], context);
    try {
      this.sendRaw(build(xid));
      await this.barrier();
    } finally {
      failed.stop();
    }
    failed.check();
  }

  /** One flow mod, confirmed by a barrier (errors reject). */
  async flowMod(mod: FlowMod): Promise<void> {
    await this.sendConfirmed((x) => encodeFlowMod(x, mod, this.opts.oxm), 'flow mod');
  }

  /**
   * Applies `mods` (flow mods and group mods, in order: a group before the
   * flows that use it) atomically in one bundle (open → add each → barrier →
   * commit). If OVS refuses any message, or the commit, the bundle is
   * discarded and nothing changes; the promise rejects with the first error.
   * The open, the adds and the barrier go out together (the switch handles
   * one connection's messages in order), so a bundle costs two round trips;
   * the commit waits for the barrier, because a refused add must lead to a
   * discard, never to a commit of the rest: OVS 3.1 keeps the bundle open
   * without the refused add and commits the others (a commit sent behind the
   * adds in the same write applied them; test/integration/openflow-connection
   * shows the difference). OVS answers the commit after applying the bundle.
   */
  async transactFlows(mods: readonly (FlowMod | GroupMod)[]): Promise<void> {
    const id = this.nextBundle++;
    const flags = OFPBF.ATOMIC | OFPBF.ORDERED;
    const xids: number[] = [];
    const bodies: Uint8Array[] = [];
    for (const m of mods) {
      const xid = this.xid();
      xids.push(xid);
      const inner = 'groupId' in m ? encodeGroupMod(xid, m, this.opts.oxm) : encodeFlowMod(xid, m, this.opts.oxm);
      bodies.push(encodeBundleAdd(xid, id, inner, flags));
    }
    const failed = this.watchErrors(xids, 'bundle add');
    // Open, adds and barrier in one write (each write wakes ovs-vswitchd).
    const sock = this.socket;
    sock?.cork();
    try {
      const opened = this.request((x) => encodeBundleControl(x, id, 'OPEN_REQUEST', flags), 'bundle open');
      // Handled below; this keeps a send failure in between from leaving it unhandled.
      opened.catch(() => undefined);
      this.sendRaw(Buffer.concat(bodies));
      const barriered = this.barrier();
      sock?.uncork();
      const [open, barrier] = await Promise.allSettled([opened, barriered]);
      if (open.status === 'rejected') throw open.reason;
      if (barrier.status === 'rejected') throw barrier.reason;
    } finally {
      if (sock?.writableCorked) sock.uncork();
      failed.stop();
    }
    const addError = failed.first();
    if (addError !== undefined) {
      await this.request((x) => encodeBundleControl(x, id, 'DISCARD_REQUEST', flags), 'bundle discard').catch(() => undefined);
      throw addError;
    }
    try {
      await this.request((x) => encodeBundleControl(x, id, 'COMMIT_REQUEST', flags), 'bundle commit');
    } catch (e) {
      await this.request((x) => encodeBundleControl(x, id, 'DISCARD_REQUEST', flags), 'bundle discard').catch(() => undefined);
      throw e;
    }
  }

  /** Collects error replies for `xids` until `first()`/`check()` is called. */
  private watchErrors(xids: number[], context: string): { first(): OpenFlowError | undefined; check(): void; stop(): void } {
    const set = new Set(xids);
    const errors: OpenFlowError[] = [];
    const on = (m: OfpMessage): void => {
      if (m.kind === 'error' && set.has(m.xid)) {
        const i = xids.indexOf(m.xid);
        errors.push(new OpenFlowError(m.name, m.type, m.code, m.data, `${context} #${i + 1}`, i));
      }
    };
    this.on('message', on);
    const first = (): OpenFlowError | undefined => {
      this.off('message', on);
      return errors[0];
    };
    return {
      first,
      stop: () => {
        this.off('message', on);
      },
      check: () => {
        const e = first();
        if (e !== undefined) throw e;
      },
    };
  }

  /** One group mod, confirmed by a barrier (errors reject). */
  async groupMod(mod: GroupMod): Promise<void> {
    await this.sendConfirmed((x) => encodeGroupMod(x, mod, this.opts.oxm), 'group mod');
  }

  /** One meter mod, confirmed by a barrier (errors reject). */
  async meterMod(mod: MeterMod): Promise<void> {
    await this.sendConfirmed((x) => encodeMeterMod(x, mod), 'meter mod');
  }

  /** NXT_TLV_TABLE_MOD, confirmed by a barrier. */
  async tlvTableMod(command: keyof typeof NXTTMC, maps: readonly TlvMap[]): Promise<void> {
    await this.sendConfirmed((x) => encodeTlvTableMod(x, command, maps), 'tlv table mod');
  }

  async tlvTable(): Promise<TlvMap[]> {
    const parts = await this.request(encodeTlvTableRequest, 'tlv table request');
    return parts.flatMap((m) => (m.kind === 'tlv_table_reply' ? [...m.maps] : []));
  }

  /** PACKET_OUT with the packet's in_port (default CONTROLLER), confirmed by a barrier. */
  async packetOut(packet: Uint8Array, actions: readonly Action[], inPort?: number): Promise<void> {
    await this.sendConfirmed((x) => encodePacketOut(x, packet, actions, inPort, this.opts.oxm), 'packet out');
  }

  /** NXT_RESUME for a paused packet-in2 (optionally with a modified packet), confirmed by a barrier. */
  async resume(packetIn: PacketIn2): Promise<void> {
    await this.sendConfirmed((x) => encodeResume(x, packetIn, this.opts.oxm), 'resume');
  }

  /** The type of a message kind, for callers filtering raw events. */
  static readonly OFPT = OFPT;
}
