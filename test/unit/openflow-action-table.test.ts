/**
 * The action table (src/openflow/action-table.ts), one sample per action
 * kind: the sample record's type lists every kind, so a kind added to the
 * model without a sample does not compile. For each kind, the entry's
 * encoder, wire reader, printer and parser agree with each other and with
 * the real `ovs-ofctl ofp-print`, which decodes our bytes into the text our
 * printer writes for the normalized action.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOk } from '../helpers/proc.js';
import { Reader, toHex, Writer } from '../../src/openflow/codec/bytes.js';
import { decodeActions, encodeActions, normalizeActions } from '../../src/openflow/codec/actions.js';
import { encodeFlowMod } from '../../src/openflow/codec/messages.js';
import { type Action, type ActionType, fieldRef, flow, type MatchField, mf, OFPP } from '../../src/openflow/flow.js';
import { formatActions, parseAction, parseActions } from '../../src/openflow/flow-text.js';
import { ACTIONS } from '../../src/openflow/action-table.js';

const reg = (n: number, ofs?: number, nBits?: number): ReturnType<typeof fieldRef> => fieldRef(`reg${n}`, ofs, nBits);

const SAMPLES: { readonly [K in ActionType]: Extract<Action, { readonly type: K }> } = {
  output: { type: 'output', port: 3 },
  output_reg: { type: 'output_reg', src: reg(14, 0, 16) },
  controller: { type: 'controller', reason: 'no_match', userdata: new Uint8Array([0, 0, 0, 1]), pause: true, meterId: 2 },
  resubmit: { type: 'resubmit', table: 9, ct: true },
  set_field: { type: 'set_field', field: 'dl_src', value: 0x0a0000000001n },
  load: { type: 'load', dst: reg(10, 3, 1), value: 1n },
  move: { type: 'move', src: fieldRef('dl_src'), dst: fieldRef('dl_dst') },
  push_vlan: { type: 'push_vlan', ethertype: 0x8100 },
  pop_vlan: { type: 'pop_vlan' },
  set_tunnel: { type: 'set_tunnel', tunId: 0x1234n },
  conjunction: { type: 'conjunction', id: 7, clause: 2, nClauses: 3 },
  ct: {
    type: 'ct',
    commit: true,
    zone: reg(13, 0, 16),
    table: 12,
    alg: 21,
    nat: { kind: 'src', ipMin: 0xc0000201n, ipMax: 0xc0000202n, portMin: 1000, portMax: 2000, random: true },
    exec: [{ type: 'set_field', field: 'ct_mark', value: 1n, mask: 1n }],
  },
  ct_clear: { type: 'ct_clear' },
  dec_ttl: { type: 'dec_ttl', ids: [4, 5] },
  note: { type: 'note', data: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0, 0]) },
  group: { type: 'group', groupId: 6 },
  meter: { type: 'meter', meterId: 8 },
  push: { type: 'push', src: reg(0) },
  pop: { type: 'pop', dst: reg(1) },
  check_pkt_larger: { type: 'check_pkt_larger', pktLen: 1500, dst: reg(9, 1, 1) },
  clone: { type: 'clone', actions: [{ type: 'output', port: OFPP.LOCAL }, { type: 'exit' }] },
  exit: { type: 'exit' },
  learn: {
    type: 'learn',
    table: 3,
    idleTimeout: 30,
    specs: [
      { kind: 'match', src: fieldRef('dl_src'), dst: fieldRef('dl_src') },
      { kind: 'load', src: fieldRef('in_port'), dst: reg(5, 0, 16) },
      { kind: 'output', src: reg(6, 0, 16) },
    ],
  },
};

/** Matches OVS requires before it takes an action (OFPBAC_MATCH_INCONSISTENT otherwise); the rest match `ip`. */
const MATCH_FOR: Partial<Record<ActionType, MatchField[]>> = {
  // +trk-inv
  resubmit: [mf('ct_state', 0x20n, 0x30n), mf('dl_type', 0x800n)],
  pop_vlan: [mf('vlan_tci', 0x1000n, 0x1000n)],
  ct: [mf('dl_type', 0x800n), mf('nw_proto', 6n)],
};

function roundTrip(actions: readonly Action[]): Action[] {
  const w = new Writer();
  encodeActions(w, actions);
  const b = w.bytes();
  return decodeActions(new Reader(b, 0, b.length, 'actions'));
}

test('every kind of the model has exactly the sampled entry', () => {
  assert.deepEqual(Object.keys(ACTIONS).sort(), Object.keys(SAMPLES).sort());
});

for (const [kind, sample] of Object.entries(SAMPLES) as [ActionType, Action][]) {
  test(`${kind}: encode → decode is the normalized action, print → parse reads it back`, () => {
    const normal = normalizeActions([sample]);
    assert.deepEqual(roundTrip([sample]), normal);
    assert.deepEqual(roundTrip(normal), normal, 'the normalized form is a fixed point');
    const text = formatActions([sample]);
    assert.deepEqual(normalizeActions(parseActions(text)), normal, text);
    assert.deepEqual(normalizeActions([parseAction(formatActions(normal))]), normal);
  });
  test(`${kind}: ovs-ofctl ofp-print decodes our bytes into what our printer writes`, async () => {
    const bytes = encodeFlowMod(1, { command: 'ADD', flow: flow(0, 1, MATCH_FOR[kind] ?? [mf('dl_type', 0x800n)], [sample]) });
    const out = await runOk('ovs-ofctl', ['ofp-print', toHex(bytes)]);
    const m = / actions=(.*)$/m.exec(out);
    assert.ok(m !== null && !out.includes('decode error'), out);
    assert.equal(m[1], formatActions(normalizeActions([sample])));
  });
}

test('a spelling the table does not know is an unknown action', () => {
  for (const s of [
    'frobnicate',
    'frobnicate:1',
    'frobnicate(1)',
    'check_pkt_larger(x)->reg0[0]',
    'CONTROLLER:x',
    'Output:1',
    'ct(commit)->x',
  ])
    assert.throws(() => parseAction(s), /unknown action/, s);
});
