/**
 * Fuzz: OpenFlow messages from the switch as the controller reads them.
 *
 * 1. The codec: framing, the full decoder and pinctrl's packet-in2 scanner
 *    either decode a frame or refuse it with OpenFlowCodecError, in bounded
 *    time.
 * 2. The connection (openflow/connection.ts) against a scripted switch on a
 *    unix socket: after the handshake the switch sends fuzzed frames, then
 *    the controller side must still answer an echo round trip — on the same
 *    connection when the frames were well framed (bad ones dropped and
 *    counted), after a reconnection when they were not (a length below the
 *    header, a message of another OpenFlow version, or a stream the switch
 *    closes because its lengths lied), as OVS's vconn does. No exception
 *    escapes: an uncaught one is a crash.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { cleanupAll, tmpDir } from '../helpers/proc.js';
import { ConnectionClosedError, OpenFlowConnection, OpenFlowError } from '../../src/openflow/connection.js';
import { OpenFlowCodecError } from '../../src/openflow/codec/bytes.js';
import { decodeHeader, decodeMessage, encodeHello, frameLength, OFPT, takeFrames } from '../../src/openflow/codec/messages.js';
import { isPacketIn2, scanPacketIn2 } from '../../src/openflow/codec/packet-in2-raw.js';
import { FuzzFailure, fuzz, fuzzTimeoutMs } from './wire-harness.js';
import { switchFrames } from './wire-openflow-gen.js';

after(cleanupAll);

function onlyCodecErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof OpenFlowCodecError)) throw e;
  }
}

test('fuzz: the OpenFlow codec decodes or refuses every frame', { timeout: fuzzTimeoutMs(10_000, 1) }, async () => {
  await fuzz(
    'openflow-codec',
    switchFrames(),
    (bytes) => {
      onlyCodecErrors(() => {
        const len = frameLength(bytes);
        if (len === undefined || len > bytes.length) return;
        const frame = bytes.subarray(0, len);
        onlyCodecErrors(() => decodeMessage(frame));
        if (isPacketIn2(frame)) onlyCodecErrors(() => scanPacketIn2(frame));
      });
    },
    { smokeRuns: 10_000, hangMs: 500 },
  );
});

/** A switch that completes the handshake and answers echo requests, and sends what it is told. */
class ScriptedSwitch {
  current: net.Socket | undefined;
  accepted = 0;
  private readonly server: net.Server;

  constructor(readonly path: string) {
    this.server = net.createServer((s) => this.serve(s));
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
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
      }
    });
  }
}

/** Whether the frames, sent back to back, leave the stream framed (every length at least the header, nothing left over). */
function wellFramed(bytes: Uint8Array): boolean {
  try {
    return takeFrames(bytes).rest.length === 0;
  } catch {
    return false;
  }
}

test('fuzz: the OpenFlow connection survives any frames from the switch', { timeout: fuzzTimeoutMs(2_000, 5) }, async () => {
  const dir = tmpDir('ovnts-fuzz-of');
  const sw = new ScriptedSwitch(join(dir.path, 'br.mgmt'));
  await sw.listen();
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown): void => void uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  const logs: string[] = [];
  const conn = new OpenFlowConnection({
    target: `unix:${sw.path}`,
    backoffMinMs: 1,
    backoffMaxMs: 5,
    requestTimeoutMs: 1500,
    log: (m) => void (logs.length < 1000 && logs.push(m)),
  });
  // A listener that fails on a message: the connection logs it and goes on.
  conn.on('port-status', () => {
    throw new Error('listener failed');
  });
  try {
    await conn.start();
    await fuzz(
      'openflow-connection',
      fc.tuple(fc.array(switchFrames(), { minLength: 1, maxLength: 4 }), fc.nat()),
      async ([frames, cut]) => {
        const s = sw.current;
        if (s === undefined) throw new FuzzFailure('no switch connection');
        const bytes = Buffer.concat(frames);
        // Sometimes in two writes, split anywhere: framing must not depend on read boundaries.
        const at = cut % (bytes.length + 1);
        s.write(bytes.subarray(0, at));
        if (at < bytes.length) s.write(bytes.subarray(at));
        // A lying length leaves the stream unframed: the switch gives up on this connection, as a real peer's close.
        if (!wellFramed(bytes)) s.end();
        for (let attempt = 0; ; attempt++) {
          try {
            await conn.waitConnected();
            await conn.echo();
            break;
          } catch (e) {
            // A fuzzed frame may carry the echo's xid (an error, a bad reply): that answers it; the next echo must work.
            const spoofed = e instanceof OpenFlowError || e instanceof OpenFlowCodecError;
            if (!(e instanceof ConnectionClosedError || spoofed) || attempt >= 20) throw e;
          }
        }
        if (uncaught.length > 0) throw uncaught.splice(0)[0];
      },
      { smokeRuns: 2_000, hangMs: 3_000 },
    );
    if (process.env['FUZZ_PATH'] === undefined) {
      // The bad input was seen for what it was: counted, some connections dropped and made again, the log rate limited.
      assert.ok(conn.counters.badMessages > 0, 'undecodable messages counted');
      assert.ok(conn.counters.protocolErrors > 0, 'framing and version errors counted');
      assert.ok(conn.connections > 1, 'reconnected after closing on bad framing');
      assert.ok(
        logs.some((l) => /Dropped \d+ log messages/.test(l)),
        'the log is rate limited',
      );
    }
  } finally {
    process.off('uncaughtException', onUncaught);
    await conn.stop();
    sw.close();
  }
});
