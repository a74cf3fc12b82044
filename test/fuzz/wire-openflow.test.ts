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
import { join } from 'node:path';
import fc from 'fast-check';
import { cleanupAll, tmpDir } from '../helpers/proc.js';
import { ScriptedSwitch } from './wire-switch.js';
import { ConnectionClosedError, OpenFlowConnection, OpenFlowError } from '../../src/openflow/connection.js';
import { OpenFlowCodecError } from '../../src/openflow/codec/bytes.js';
import { decodeMessage, frameLength, takeFrames } from '../../src/openflow/codec/messages.js';
import { isPacketIn2, scanPacketIn2 } from '../../src/openflow/codec/packet-in2-raw.js';
import { FuzzFailure, fuzz, fuzzTimeoutMs } from './fuzz-env.js';
import { switchFrames } from './wire-openflow-gen.js';

after(cleanupAll);

function onlyCodecErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof OpenFlowCodecError)) throw e;
  }
}

test('fuzz: the OpenFlow codec decodes or refuses every frame', { timeout: fuzzTimeoutMs(10_000, 5) }, async () => {
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

/** Whether the frames, sent back to back, leave the stream framed (every length at least the header, nothing left over). */
function wellFramed(bytes: Uint8Array): boolean {
  try {
    return takeFrames(bytes).rest.length === 0;
  } catch {
    return false;
  }
}

/** Switch and controller pairs fuzzed at once: an input mostly waits on round trips and reconnections. */
const PAIRS = 8;

test('fuzz: the OpenFlow connection survives any frames from the switch', { timeout: fuzzTimeoutMs(2_000, 50) }, async () => {
  const dir = tmpDir('ovnts-fuzz-of');
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown): void => void uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  const logs: string[] = [];
  const pairs: { sw: ScriptedSwitch; conn: OpenFlowConnection }[] = [];
  try {
    for (let i = 0; i < PAIRS; i++) {
      const sw = new ScriptedSwitch(join(dir.path, `br${i}.mgmt`));
      await sw.listen();
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
      pairs.push({ sw, conn });
      await conn.start();
    }
    await fuzz(
      'openflow-connection',
      fc.tuple(fc.array(switchFrames(), { minLength: 1, maxLength: 4 }), fc.nat()),
      async ([frames, cut], w) => {
        const { sw, conn } = pairs[w]!;
        const s = sw.current;
        if (s === undefined) throw new FuzzFailure('no switch connection');
        const bytes = Buffer.concat(frames);
        // Sometimes in two writes, split anywhere: framing must not depend on read boundaries.
        const at = cut % (bytes.length + 1);
        s.write(bytes.subarray(0, at));
        if (at < bytes.length) s.write(bytes.subarray(at));
        // A lying length leaves the stream unframed: the switch gives up on this connection, as a real peer's close.
        if (!wellFramed(bytes)) s.end();
        // The switch's echo round trip: the controller read everything before it, and is connected (again).
        await sw.settle(() => conn.connected);
        // And its own requests still work; a fuzzed frame may have carried this echo's xid (an error, a bad reply): that answers it.
        try {
          await conn.echo();
        } catch (e) {
          if (!(e instanceof OpenFlowError || e instanceof OpenFlowCodecError || e instanceof ConnectionClosedError)) throw e;
          await sw.settle(() => conn.connected);
          await conn.echo();
        }
        // An exception escaping a handler is charged to the input that next finishes (maybe a neighbour's: FUZZ_PATH replays one alone).
        if (uncaught.length > 0) throw uncaught.splice(0)[0];
      },
      { smokeRuns: 2_000, hangMs: 3_000, concurrency: PAIRS },
    );
    if (process.env['FUZZ_PATH'] === undefined) {
      // The bad input was seen for what it was: counted, some connections dropped and made again, the log rate limited.
      const sum = (f: (c: OpenFlowConnection) => number): number => pairs.reduce((n, p) => n + f(p.conn), 0);
      assert.ok(sum((c) => c.counters.badMessages) > 0, 'undecodable messages counted');
      assert.ok(sum((c) => c.counters.protocolErrors) > 0, 'framing and version errors counted');
      assert.ok(
        pairs.some((p) => p.conn.connections > 1),
        'reconnected after closing on bad framing',
      );
      assert.ok(
        logs.some((l) => /Dropped \d+ log messages/.test(l)),
        'the log is rate limited',
      );
    }
  } finally {
    process.off('uncaughtException', onUncaught);
    for (const { sw, conn } of pairs) {
      await conn.stop();
      sw.close();
    }
  }
});
