/**
 * A scripted switch for the OpenFlow fuzz targets: a unix socket that
 * completes the OpenFlow 1.5 handshake with whoever connects (features reply
 * for datapath 1), answers echo and barrier requests, keeps what the
 * controller sends it, and writes whatever the fuzzer gives it. Real
 * ovs-vswitchd never sends malformed messages, hence a scripted one.
 */
import net from 'node:net';
import { decodeHeader, encodeHello, OFPT, takeFrames } from '../../src/openflow/codec/messages.js';

/** A switch that completes the handshake and answers echo requests, and sends what it is told. */
export class ScriptedSwitch {
  current: net.Socket | undefined;
  accepted = 0;
  /** Frames the controller sent that the switch does not answer itself (resumes, packet-outs...). */
  received: Uint8Array[] = [];
  private pings = new Map<number, () => void>();
  private nextPing = 0xfff00000;
  private readonly server: net.Server;

  constructor(readonly path: string) {
    this.server = net.createServer((s) => this.serve(s));
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }

  /**
   * An echo request from the switch, resolved by the controller's reply: the
   * controller has read everything sent before it (one stream, in order).
   * Rejects when the connection closes or after `timeoutMs`.
   */
  ping(timeoutMs = 2000): Promise<void> {
    const s = this.current;
    if (s === undefined || s.destroyed || s.writableEnded) return Promise.reject(new Error('no switch connection'));
    const xid = this.nextPing++;
    return new Promise((resolve, reject) => {
      const done = (e?: Error): void => {
        clearTimeout(timer);
        s.off('close', onClose);
        this.pings.delete(xid);
        if (e === undefined) resolve();
        else reject(e);
      };
      const onClose = (): void => done(new Error('switch connection closed'));
      const timer = setTimeout(() => done(new Error(`no echo reply within ${timeoutMs} ms`)), timeoutMs);
      s.once('close', onClose);
      this.pings.set(xid, () => done());
      const b = Buffer.from([6, 2, 0, 8, 0, 0, 0, 0]);
      b.writeUInt32BE(xid, 4);
      s.write(b);
    });
  }

  /** Waits (polling every ms) until a controller is connected afresh or still, then pings it. */
  async settle(connected: () => boolean, timeoutMs = 2500): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.current;
      if (s !== undefined && !s.destroyed && !s.writableEnded && connected()) {
        try {
          await this.ping(Math.max(1, deadline - Date.now()));
          return;
        } catch (e) {
          if (Date.now() >= deadline) throw e;
        }
      }
      if (Date.now() >= deadline) throw new Error(`controller not back within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  close(): void {
    this.current?.destroy();
    this.server.close();
  }

  private serve(s: net.Socket): void {
    this.accepted++;
    this.current?.destroy();
    this.current = s;
    s.on('error', () => undefined);
    s.write(encodeHello(1));
    let buf: Uint8Array = new Uint8Array(0);
    s.on('data', (d: Buffer) => {
      const merged = new Uint8Array(buf.length + d.length);
      merged.set(buf);
      merged.set(d, buf.length);
      const { frames, rest } = takeFrames(merged);
      buf = rest.slice();
      for (const f of frames) {
        const h = decodeHeader(f);
        const reply = (type: number, body: number[]): void => {
          const b = Buffer.from([6, type, 0, 0, 0, 0, 0, 0, ...body]);
          b.writeUInt16BE(b.length, 2);
          b.writeUInt32BE(h.xid, 4);
          s.write(b);
        };
        if (h.type === OFPT.FEATURES_REQUEST)
          reply(OFPT.FEATURES_REPLY, [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 254, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        else if (h.type === OFPT.ECHO_REQUEST) reply(OFPT.ECHO_REPLY, [...f.subarray(8)]);
        else if (h.type === OFPT.BARRIER_REQUEST) reply(OFPT.BARRIER_REPLY, []);
        else if (h.type === OFPT.ECHO_REPLY && this.pings.has(h.xid)) {
          this.pings.get(h.xid)?.();
          this.pings.delete(h.xid);
        } else if (this.received.length < 1000) this.received.push(Uint8Array.from(f));
      }
    });
  }
}
