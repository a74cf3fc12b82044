/**
 * Bad input never takes the connection component down (DESIGN.md): a peer
 * on a unix socket that completes the OpenFlow 1.5 handshake and then sends
 * a reply it cannot have meant (rejected request, connection kept), a frame
 * whose length is below the header size (that connection dropped, a new one
 * made), and finally silence (the inactivity probe drops it, a new one made).
 * The peer is a small scripted switch: real ovs-vswitchd never sends these.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { cleanupAll, tmpDir, waitFor } from '../helpers/proc.js';
import { OpenFlowConnection } from '../../src/openflow/connection.js';
import { OpenFlowCodecError, fromHex } from '../../src/openflow/codec/bytes.js';
import { decodeHeader, encodeHello, OFPT, takeFrames } from '../../src/openflow/codec/messages.js';

after(cleanupAll);

type Mode = 'normal' | 'silent';

test('connection survives malformed replies, bad framing and a silent peer', { timeout: 60_000 }, async () => {
  const dir = tmpDir('ovnts-of-peer');
  const path = join(dir.path, 'br.mgmt');
  const sockets: net.Socket[] = [];
  let mode: Mode = 'normal';
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    sockets.push(s);
    const connMode = mode;
    let buf = new Uint8Array(0);
    s.write(encodeHello(1));
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      const merged = new Uint8Array(buf.length + d.length);
      merged.set(buf);
      merged.set(d, buf.length);
      const { frames, rest } = takeFrames(merged);
      buf = rest.slice();
      for (const f of frames) {
        const h = decodeHeader(f);
        // Silent: completes the handshake, then never answers again (not even echo requests).
        if (connMode === 'silent' && h.type !== OFPT.FEATURES_REQUEST) continue;
        const xid = fromHex(h.xid.toString(16).padStart(8, '0'));
        const reply = (type: number, body: string): void => {
          const b = fromHex(`06${type.toString(16).padStart(2, '0')}0000${Buffer.from(xid).toString('hex')}${body}`);
          b[2] = b.length >> 8;
          b[3] = b.length & 0xff;
          s.write(b);
        };
        if (h.type === OFPT.FEATURES_REQUEST)
          reply(OFPT.FEATURES_REPLY, '0000000000000001' + '00000000' + 'fe000000' + '00000000' + '00000000');
        else if (h.type === OFPT.ECHO_REQUEST) reply(OFPT.ECHO_REPLY, '');
        else if (h.type === OFPT.BARRIER_REQUEST) reply(OFPT.BARRIER_REPLY, '');
        // A flow stats reply whose single entry claims 200 bytes but has 24.
        else if (h.type === OFPT.MULTIPART_REQUEST) reply(OFPT.MULTIPART_REPLY, '0001000000000000' + '00c8' + '00'.repeat(22));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const conn = new OpenFlowConnection({ target: `unix:${path}`, probeIntervalMs: 300, backoffMinMs: 20, backoffMaxMs: 100 });
  try {
    await conn.start();
    assert.equal(conn.features?.datapathId, 1n);

    // A malformed reply rejects its request only; the connection keeps serving.
    await assert.rejects(conn.dumpFlows(), (e: unknown) => e instanceof OpenFlowCodecError);
    await conn.barrier();
    assert.equal(conn.connections, 1);

    // A frame shorter than its header: this connection is dropped and a new one is made.
    sockets.at(-1)?.write(fromHex('0601000400000000'));
    await waitFor(() => conn.connected && conn.connections === 2, { what: 'reconnected after a framing error' });
    await conn.barrier();

    // A peer that stops answering is dropped by the inactivity probe.
    mode = 'silent';
    sockets.at(-1)?.destroy();
    await waitFor(() => accepted >= 3 && conn.connected, { what: 'connected to the now silent peer' });
    mode = 'normal';
    await waitFor(() => accepted >= 4 && conn.connected && conn.connections >= 4, {
      what: 'the silent connection dropped by the probe and replaced',
    });
    await conn.barrier();
  } finally {
    await conn.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
