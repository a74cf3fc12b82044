/**
 * PinctrlLink over a real unix socket, the switch side played by the test:
 * put_dhcp_opts packet-ins (the real seed lab's DISCOVER and REQUEST with the
 * real controller's userdata) arrive several to a write and split across
 * writes (the read buffer is reused, so a partial message must survive the
 * next read); each is answered by one NXT_RESUME carrying pinctrl's reply,
 * the packet-in's metadata with reg0[3] set, and the continuation; a
 * packet-in with garbage userdata is a counted drop, not an answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '../../src/lib/packet/addr.js';
import { answerPutDhcpOpts, type DhcpAnswer } from '../../src/controller/pinctrl/dhcp.js';
import { PinctrlLink } from '../../src/controller/pinctrl-link.js';
import { decodeHeader, decodeMessage, encodeHello, encodePacketIn2, frameLength, NXT, OFPT } from '../../src/openflow/codec/messages.js';
import { mf, normalizeMatch } from '../../src/openflow/flow.js';

const FIX = new URL('../../../test/fixtures/packets/', import.meta.url);
const frame = (name: string): Uint8Array => fromHex(readFileSync(new URL(name, FIX), 'utf8'));
const USERDATA = fromHex('00000002 00000000 0001de10 00000063 ac10ff85 330400000e10 0104ffffffc0 0304ac10ff81 3604ac10ff81');
const METADATA = normalizeMatch([mf('in_port', 3n), mf('metadata', 1n), mf('reg11', 2n), mf('reg14', 3n)]);

/** Complete messages from the bytes the link wrote. */
function frames(bytes: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  for (;;) {
    const len = frameLength(bytes, off);
    if (len === undefined || bytes.length - off < len) return out;
    out.push(Uint8Array.from(bytes.subarray(off, off + len)));
    off += len;
  }
}

test('put_dhcp_opts packet-ins batched and split across reads: one resume each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-pinctrl-link-'));
  const path = join(dir, 'br-int.mgmt');
  let peer: Socket | undefined;
  let received = Buffer.alloc(0);
  // The switch side of the handshake: HELLO, then a FEATURES_REPLY (datapath 1, 254 tables).
  const answerHandshake = (s: Socket, bytes: Buffer): void => {
    for (const f of frames(bytes)) {
      const h = decodeHeader(f);
      if (h.type === OFPT.HELLO) s.write(encodeHello(h.xid));
      if (h.type === OFPT.FEATURES_REQUEST)
        s.write(fromHex(`0606 0020 ${h.xid.toString(16).padStart(8, '0')} 0000000000000001 00000000 fe000000 00000000 00000000`));
    }
  };
  const server = createServer((s) => {
    peer = s;
    s.on('data', (d) => {
      answerHandshake(s, d);
      received = Buffer.concat([received, d]);
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  const link = new PinctrlLink({ path, reconnectMs: 50 });
  try {
    link.start();
    while (peer === undefined || frames(received).length < 4) await new Promise((r) => setTimeout(r, 10));
    // HELLO, FEATURES_REQUEST, SET_CONFIG, NXT_SET_PACKET_IN_FORMAT; then only resumes.
    received = Buffer.alloc(0);

    const requests = ['dhcp-c51-discover.hex', 'dhcp-c51-request.hex', 'dhcp-c51-discover.hex', 'dhcp-c51-request.hex'].map(frame);
    const continuations = requests.map((_, i) => new Uint8Array(24).fill(i + 1));
    const pins = requests.map((packet, i) =>
      encodePacketIn2(i + 1, { packet, metadata: METADATA, userdata: USERDATA, continuation: continuations[i]!, tableId: 27 }),
    );
    const bad = encodePacketIn2(9, {
      packet: requests[0]!,
      metadata: METADATA,
      userdata: new Uint8Array([0, 0, 0, 2, 1]),
      continuation: continuations[0]!,
    });
    const all = Buffer.concat([pins[0]!, pins[1]!, bad, pins[2]!, pins[3]!]);
    // One message and the start of the next in one write; the next read, longer, lands over the first in the read buffer.
    const cut1 = pins[0]!.length + 10;
    const cut2 = pins[0]!.length + pins[1]!.length + bad.length + pins[2]!.length - 5;
    for (const part of [all.subarray(0, cut1), all.subarray(cut1, cut2), all.subarray(cut2)]) {
      peer.write(part);
      await new Promise((r) => setTimeout(r, 30));
    }
    while (frames(received).length < 4) await new Promise((r) => setTimeout(r, 10));

    const resumes = frames(received);
    assert.equal(resumes.length, 4);
    resumes.forEach((r, i) => {
      const view = new DataView(r.buffer, r.byteOffset);
      assert.equal(view.getUint32(12), NXT.RESUME);
      // Read back with the generic packet-in2 decoder: the layouts are the same.
      view.setUint32(12, NXT.PACKET_IN2);
      const m = decodeMessage(r);
      assert.ok(m.kind === 'packet_in2');
      const want = answerPutDhcpOpts(requests[i]!, USERDATA) as DhcpAnswer;
      assert.equal(toHex(m.packetIn.packet), toHex(want.reply));
      assert.deepEqual(m.packetIn.metadata, normalizeMatch([...METADATA, mf('reg0', 8n)]));
      assert.deepEqual(m.packetIn.continuation, continuations[i]);
    });
    assert.equal(link.counters.packetIns, 5);
    assert.equal(link.counters.resumes, 4);
    assert.equal(link.stats.drops.get('bad-userdata'), 1);
  } finally {
    link.stop();
    peer?.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});
