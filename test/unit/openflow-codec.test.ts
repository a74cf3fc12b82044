/**
 * OpenFlow codec: hex fixtures (one comment per field), round trips with
 * boundary values, framing with the input split at every offset, malformed
 * input rejected with OpenFlowCodecError only, and fast-check properties.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OpenFlowCodecError, Reader, Writer, fromHex, toHex } from '../../src/openflow/codec/bytes.js';
import {
  decodeMessage,
  encodeBarrierRequest,
  encodeBundleAdd,
  encodeBundleControl,
  encodeEchoRequest,
  encodeFlowMod,
  encodeHello,
  encodePacketIn2,
  encodeSetConfig,
  frameLength,
  OFPBF,
  takeFrames,
} from '../../src/openflow/codec/messages.js';
import { decodeActions, encodeActions, normalizeActions } from '../../src/openflow/codec/actions.js';
import { decodeMatch, encodeMatch } from '../../src/openflow/codec/oxm.js';
import { FIXED_ACTIONS, flowArb } from './openflow-arbitraries.js';
import {
  type Action,
  type FlowMod,
  type Match,
  FlowModelError,
  fieldRef,
  matchField,
  mf,
  normalizeMatch,
  OFPP,
} from '../../src/openflow/flow.js';

const hex = (s: string): string => s.replace(/\s+|#[^\n]*/g, '');

test('fixtures: HELLO, ECHO, SET_CONFIG, BARRIER, BUNDLE_CONTROL', () => {
  assert.equal(
    toHex(encodeHello(7)),
    hex(`06 00 0010 00000007  # version 1.5, OFPT_HELLO, length 16, xid 7
         0001 0008 00000040  # element VERSIONBITMAP, length 8, bitmap bit 6 (1.5)`),
  );
  assert.equal(
    toHex(encodeEchoRequest(1, new Uint8Array([0xab]))),
    hex(`06 02 0009 00000001 # ECHO_REQUEST, length 9
                                                                         ab               # payload`),
  );
  assert.equal(
    toHex(encodeSetConfig(2)),
    hex(`06 09 000c 00000002 # SET_CONFIG
                                               0000 ffff           # flags frag normal, miss_send_len 65535`),
  );
  assert.equal(toHex(encodeBarrierRequest(3)), hex('06 14 0008 00000003 # BARRIER_REQUEST'));
  assert.equal(
    toHex(encodeBundleControl(4, 9, 'COMMIT_REQUEST', OFPBF.ATOMIC | OFPBF.ORDERED)),
    hex(`06 21 0010 00000004 # BUNDLE_CONTROL, length 16
         00000009            # bundle_id 9
         0004                # type COMMIT_REQUEST
         0003                # flags atomic|ordered`),
  );
});

test('fixture: FLOW_MOD with a register match and resubmit', () => {
  const b = encodeFlowMod(1, {
    command: 'ADD',
    flow: { table: 0, priority: 100, cookie: 0x1n, match: [mf('reg14', 2n)], actions: [{ type: 'resubmit', table: 8 }] },
  });
  assert.equal(
    toHex(b),
    hex(`06 0e 0058 00000001          # FLOW_MOD, length 88, xid 1
         0000000000000001             # cookie
         0000000000000000             # cookie mask
         00 00                        # table 0, OFPFC_ADD
         0000 0000 0064               # idle 0, hard 0, priority 100
         ffffffff                     # buffer_id none
         ffffffff ffffffff            # out_port ANY, out_group ANY
         0000 0000                    # flags, importance
         0001 000c                    # match type OXM, length 12
         00011c04 00000002            # NXM_NX_REG14 (class 1, field 14, 4 bytes) = 2
         00000000                     # padding to 8
         0004 0018 00000000           # OFPIT_APPLY_ACTIONS, length 24
         ffff 0010 00002320 000e      # experimenter action, Nicira, NXAST_RESUBMIT_TABLE
         fff8 08 000000               # in_port IN_PORT (unset), table 8, padding`),
  );
});

test('framing: "need more" below 8 bytes, a length under the header size is an error', () => {
  assert.equal(frameLength(new Uint8Array(7)), undefined);
  assert.equal(frameLength(encodeBarrierRequest(1)), 8);
  assert.throws(() => frameLength(fromHex('0614000400000001')), OpenFlowCodecError);
});

test('framing: a stream split at every offset yields the same messages', () => {
  const msgs = [
    encodeHello(1),
    encodeEchoRequest(2, new Uint8Array([1, 2, 3])),
    encodeFlowMod(3, { command: 'ADD', flow: { table: 1, priority: 2, cookie: 3n, match: [mf('metadata', 5n)], actions: [] } }),
    encodeBarrierRequest(4),
  ];
  const stream = new Uint8Array(msgs.reduce((n, m) => n + m.length, 0));
  let o = 0;
  for (const m of msgs) {
    stream.set(m, o);
    o += m.length;
  }
  for (let cut = 0; cut <= stream.length; cut++) {
    const got: string[] = [];
    let pending = new Uint8Array(0);
    for (const chunk of [stream.subarray(0, cut), stream.subarray(cut)]) {
      const buf = new Uint8Array(pending.length + chunk.length);
      buf.set(pending);
      buf.set(chunk, pending.length);
      const { frames, rest } = takeFrames(buf);
      got.push(...frames.map(toHex));
      pending = rest.slice();
    }
    assert.deepEqual(got, msgs.map(toHex), `cut at ${cut}`);
    assert.equal(pending.length, 0);
  }
});

const ROUND_TRIP: { name: string; mod: FlowMod }[] = [
  { name: 'minimum', mod: { command: 'ADD', flow: { table: 0, priority: 0, cookie: 0n, match: [], actions: [] } } },
  {
    name: 'maximum scalars',
    mod: {
      command: 'MODIFY_STRICT',
      cookieMask: 0xffffffffffffffffn,
      outPort: OFPP.ANY,
      outGroup: 0xffffffff,
      flow: {
        table: 254,
        priority: 65535,
        cookie: 0xffffffffffffffffn,
        idleTimeout: 65535,
        hardTimeout: 1,
        flags: 1,
        importance: 7,
        match: [mf('reg15', 0xffffffffn)],
        actions: [{ type: 'output', port: 0xffffff00 }],
      },
    },
  },
  {
    name: 'masks and wide fields',
    mod: {
      command: 'ADD',
      cookieMask: 0n,
      outPort: OFPP.ANY,
      outGroup: 0xffffffff,
      flow: {
        table: 3,
        priority: 7,
        cookie: 5n,
        match: normalizeMatch([
          mf('dl_type', 0x86ddn),
          mf('ipv6_src', 0xfe800000000000000000000000000000n, 0xffffffffffffffff0000000000000000n),
          mf('ct_label', 1n << 127n, 1n << 127n),
          mf('dl_dst', 0x010000000000n, 0x010000000000n),
          ...matchField('xxreg0', 0xffn, 0xffn),
          mf('tun_metadata0', 0xffffffffn),
        ]),
        actions: [
          { type: 'set_field', field: 'ct_label', value: 1n << 127n, mask: 1n << 127n },
          { type: 'move', src: fieldRef('xxreg1'), dst: fieldRef('xxreg2') },
          {
            type: 'controller',
            maxLen: 0,
            id: 65535,
            reason: 'invalid_ttl',
            userdata: new Uint8Array(100).fill(0xee),
            pause: true,
            meterId: 0xffffffff,
          },
          {
            type: 'ct',
            commit: true,
            force: true,
            zone: 65535,
            table: 254,
            alg: 69,
            nat: { kind: 'dst', ipv6: true, ipMin: 1n, ipMax: (1n << 128n) - 1n, portMin: 0, portMax: 65535, persistent: true, hash: true },
            exec: [{ type: 'set_field', field: 'ct_mark', value: 0xffffffffn }],
          },
          { type: 'conjunction', id: 0xffffffff, clause: 64, nClauses: 64 },
          { type: 'clone', actions: [{ type: 'resubmit', port: 0xfeff, table: 0 }, { type: 'exit' }] },
          { type: 'dec_ttl', ids: [0, 65535] },
          { type: 'push', src: fieldRef('reg0', 31, 1) },
          { type: 'pop', dst: fieldRef('xreg7') },
          { type: 'group', groupId: 0xffffff00 },
          { type: 'meter', meterId: 1 },
        ],
      },
    },
  },
];

for (const { name, mod } of ROUND_TRIP) {
  test(`round trip: FLOW_MOD ${name}`, () => {
    const m = decodeMessage(encodeFlowMod(0xffffffff, mod));
    assert.equal(m.kind, 'flow_mod');
    if (m.kind !== 'flow_mod') return;
    assert.equal(m.xid, 0xffffffff);
    assert.deepEqual(m.mod.flow.match, normalizeMatch(mod.flow.match));
    assert.deepEqual(m.mod.flow.actions, normalizeActions(mod.flow.actions));
    assert.deepEqual(
      { ...m.mod, flow: { ...m.mod.flow, match: [], actions: [] } },
      {
        command: mod.command,
        cookieMask: mod.cookieMask ?? 0n,
        outPort: mod.outPort ?? OFPP.ANY,
        outGroup: mod.outGroup ?? 0xffffffff,
        flow: { ...mod.flow, match: [], actions: [] },
      },
    );
  });
}

test('round trip: packet-in2 with every property', () => {
  const p = {
    packet: new Uint8Array([1, 2, 3]),
    fullLen: 3,
    bufferId: 0xffffffff,
    tableId: 254,
    cookie: 0xffffffffffffffffn,
    reason: 'packet_out' as const,
    metadata: [mf('in_port', 1n), mf('reg0', 5n)],
    userdata: new Uint8Array([9]),
    continuation: new Uint8Array([0, 1, 0, 4, 0, 0, 0, 0]),
  };
  const m = decodeMessage(encodePacketIn2(5, p));
  assert.equal(m.kind, 'packet_in2');
  if (m.kind === 'packet_in2') assert.deepEqual(m.packetIn, p);
});

test('bundle add carries the whole inner message', () => {
  const inner = encodeBarrierRequest(9);
  const b = encodeBundleAdd(9, 1, inner, OFPBF.ATOMIC);
  assert.equal(toHex(b.subarray(16)), toHex(inner));
});

test('malformed input: truncated and inconsistent messages are OpenFlowCodecError', () => {
  const good = encodeFlowMod(1, ROUND_TRIP[2]!.mod);
  let refused = 0;
  for (let n = 8; n < good.length; n++) {
    const cut = good.slice(0, n);
    cut[2] = n >> 8;
    cut[3] = n & 0xff;
    try {
      decodeMessage(cut);
    } catch (e) {
      assert.ok(e instanceof OpenFlowCodecError, `cut at ${n}: ${String(e)}`);
      refused++;
    }
  }
  // Only a cut right after the match is itself a valid (action-less) flow mod.
  assert.equal(refused, good.length - 8 - 1);
  assert.throws(() => decodeMessage(good.slice(0, 20)), OpenFlowCodecError);
  // An action with a length that is not a multiple of 8.
  assert.throws(() => decodeActions(new Reader(fromHex('0000000c00000001ffff0000'))), OpenFlowCodecError);
});

test('model: bad values and contradictions are refused', () => {
  assert.throws(() => mf('reg0', 1n << 32n), FlowModelError);
  assert.throws(() => mf('nw_proto', 1n, 1n), FlowModelError);
  assert.throws(() => normalizeMatch([mf('reg0', 1n), mf('reg0', 2n)]), FlowModelError);
  assert.deepEqual(normalizeMatch([mf('reg0', 1n, 1n), mf('reg0', 2n, 2n)]), [{ field: 'reg0', value: 3n, mask: 3n }]);
  assert.deepEqual(matchField('xreg0', 0x100000002n), [
    { field: 'reg0', value: 1n },
    { field: 'reg1', value: 2n },
  ]);
  assert.throws(() => {
    const w = new Writer();
    encodeActions(w, [{ type: 'load', dst: fieldRef('reg0', 30, 4), value: 1n }]);
  }, OpenFlowCodecError);
});

// ---------------------------------------------------------------- properties

const FIELDS32 = ['reg0', 'reg7', 'reg15', 'pkt_mark', 'ct_mark', 'metadata', 'tun_id', 'ct_label', 'dl_src', 'tun_metadata0'] as const;
const widths: Record<string, number> = { metadata: 64, tun_id: 64, ct_label: 128, dl_src: 48, tun_metadata0: 32 };
const big = (bits: number): fc.Arbitrary<bigint> => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });

const matchArb: fc.Arbitrary<Match> = fc
  .uniqueArray(fc.constantFrom(...FIELDS32), { maxLength: 6 })
  .chain((names) =>
    fc.tuple(...names.map((n) => fc.tuple(fc.constant(n), big(widths[n] ?? 32), fc.option(big(widths[n] ?? 32), { nil: undefined })))),
  )
  .map((xs) => normalizeMatch(xs.map(([n, v, m]) => mf(n, m === undefined ? v : v & m, m === 0n ? undefined : m))));

const refArb = fc.constantFrom('reg0', 'reg9', 'xreg1', 'xxreg3').chain((f) => {
  const bits = f.startsWith('xxreg') ? 128 : f.startsWith('xreg') ? 64 : 32;
  return fc
    .integer({ min: 0, max: bits - 1 })
    .chain((ofs) => fc.integer({ min: 1, max: bits - ofs }).map((nBits) => fieldRef(f, ofs, nBits)));
});

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.integer({ min: 1, max: 0xfeff }).map((port): Action => ({ type: 'output', port })),
  fc.record({ table: fc.integer({ min: 0, max: 254 }) }).map(({ table }): Action => ({ type: 'resubmit', table })),
  fc.tuple(fc.constantFrom('reg3', 'metadata', 'ct_mark'), big(32)).map(([field, value]): Action => ({ type: 'set_field', field, value })),
  refArb.chain((dst) => big(dst.nBits).map((value): Action => ({ type: 'load', dst, value }))),
  refArb.chain((src) =>
    fc
      .constantFrom(...(src.nBits > 32 ? ['xxreg0'] : ['reg1', 'xxreg0']))
      .map((d): Action => ({ type: 'move', src, dst: fieldRef(d, 0, src.nBits) })),
  ),
  fc.uint8Array({ maxLength: 40 }).map((userdata): Action => ({ type: 'controller', userdata, pause: true })),
  fc
    .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 2, max: 64 }))
    .chain(([id, n]) => fc.integer({ min: 1, max: n }).map((clause): Action => ({ type: 'conjunction', id, clause, nClauses: n }))),
  fc.constantFrom(...FIXED_ACTIONS),
);

test('property: FLOW_MOD encode → decode keeps the flow (normalized)', () => {
  fc.assert(
    fc.property(flowArb(matchArb, actionArb, 6), (flow) => {
      const m = decodeMessage(encodeFlowMod(1, { command: 'ADD', flow }));
      assert.ok(m.kind === 'flow_mod');
      assert.deepEqual(m.mod.flow.match, flow.match);
      assert.deepEqual(m.mod.flow.actions, normalizeActions(flow.actions));
      assert.deepEqual(normalizeActions(m.mod.flow.actions), m.mod.flow.actions, 'normalization is idempotent');
    }),
    { numRuns: 300 },
  );
});

test('property: match encode → decode is the identity on normalized matches', () => {
  fc.assert(
    fc.property(matchArb, (match) => {
      const w = new Writer();
      encodeMatch(w, match);
      const b = w.bytes();
      assert.equal(b.length % 8, 0);
      const r = new Reader(b);
      assert.deepEqual(decodeMatch(r), match);
      assert.equal(r.left, 0);
    }),
  );
});

test('property: arbitrary bytes never throw anything but OpenFlowCodecError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 8, maxLength: 200 }), fc.integer({ min: 0, max: 35 }), (body, type) => {
      const b = body.slice();
      b[0] = 6;
      b[1] = type;
      b[2] = b.length >> 8;
      b[3] = b.length & 0xff;
      try {
        decodeMessage(b);
      } catch (e) {
        assert.ok(e instanceof OpenFlowCodecError || e instanceof FlowModelError, `unexpected ${String(e)}`);
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: packet-in2 encode → decode keeps every property', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
      fc.integer({ min: 0, max: 254 }),
      big(64),
      fc.bigInt({ min: 0n, max: 0xffffffffn }),
      (packet, userdata, tableId, cookie, reg) => {
        const p = {
          packet,
          tableId,
          cookie,
          metadata: normalizeMatch([mf('in_port', 1n), mf('reg3', reg)]),
          ...(userdata === undefined ? {} : { userdata }),
          continuation: new Uint8Array([0x80, 0, 0, 8, 0, 0, 0, 1]),
        };
        const m = decodeMessage(encodePacketIn2(1, p));
        assert.ok(m.kind === 'packet_in2');
        assert.deepEqual(m.packetIn, p);
      },
    ),
  );
});
