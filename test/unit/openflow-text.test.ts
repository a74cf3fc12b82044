/**
 * The ovs-ofctl syntax printer and parser: fixtures in the forms
 * `ovs-ofctl dump-flows` prints, errors for bad input, and a property that
 * parsing what the printer wrote gives the same flow back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type Action, FlowModelError, fieldRef, mf, normalizeMatch, OFPP } from '../../src/openflow/flow.js';
import { formatActions, formatFlow, formatGroup, formatMatch, parseActions, parseFlow, parseGroup } from '../../src/openflow/flow-text.js';
import { FIXED_ACTIONS, flowArb } from './openflow-arbitraries.js';

test('dump-flows lines parse into the model', () => {
  const f = parseFlow(
    ' cookie=0x5, duration=1.2s, table=8, n_packets=3, n_bytes=180, idle_age=0, priority=50,ip,reg14=0x1,metadata=0x1,nw_src=10.0.0.0/8 actions=set_field:0x20/0x20->reg10,resubmit(,9)',
  );
  assert.deepEqual(f, {
    table: 8,
    priority: 50,
    cookie: 5n,
    match: normalizeMatch([mf('dl_type', 0x800n), mf('reg14', 1n), mf('metadata', 1n), mf('nw_src', 0x0a000000n, 0xff000000n)]),
    actions: [
      { type: 'set_field', field: 'reg10', value: 0x20n, mask: 0x20n },
      { type: 'resubmit', table: 9 },
    ],
  });
  const g = parseFlow(
    'table=10, priority=10,ct_state=+est+trk,ip actions=controller(userdata=00.00.00.01.aa,pause),ct(commit,zone=NXM_NX_REG13[0..15],nat(src=192.0.2.1-192.0.2.2:1000-2000)),output:2',
  );
  assert.deepEqual(g.match, normalizeMatch([mf('ct_state', 0x22n, 0x22n), mf('dl_type', 0x800n)]));
  assert.deepEqual(g.actions, [
    { type: 'controller', userdata: new Uint8Array([0, 0, 0, 1, 0xaa]), pause: true },
    {
      type: 'ct',
      commit: true,
      zone: fieldRef('reg13', 0, 16),
      nat: { kind: 'src', ipMin: 0xc0000201n, ipMax: 0xc0000202n, portMin: 1000, portMax: 2000 },
    },
    { type: 'output', port: 2 },
  ]);
  assert.deepEqual(parseFlow('priority=5,dl_vlan=51 actions=pop_vlan,output:3').match, [mf('vlan_tci', 0x1033n, 0x1fffn)]);
  assert.deepEqual(parseFlow('priority=0 actions=drop').actions, []);
  assert.deepEqual(parseFlow('in_port=LOCAL actions=LOCAL').match, [mf('in_port', BigInt(OFPP.LOCAL))]);
  assert.deepEqual(
    parseFlow('icmp6,icmp_type=135 actions=drop').match,
    normalizeMatch([mf('dl_type', 0x86ddn), mf('nw_proto', 58n), mf('icmpv6_type', 135n)]),
  );
});

test('printer writes ovs-ofctl shorthands', () => {
  assert.equal(formatMatch(normalizeMatch([mf('dl_type', 0x800n), mf('nw_proto', 6n), mf('tcp_dst', 80n)])), 'tcp,tp_dst=80');
  assert.equal(formatMatch([mf('vlan_tci', 0x1033n, 0x1fffn)]), 'dl_vlan=51');
  assert.equal(formatMatch([mf('nw_src', 0x0a000000n, 0xff000000n)]), 'nw_src=10.0.0.0/8');
  assert.equal(formatMatch([mf('ct_state', 0x22n, 0x23n)]), 'ct_state=-new+est+trk');
  assert.equal(formatActions([]), 'drop');
  assert.equal(
    formatActions([{ type: 'move', src: fieldRef('reg14', 0, 4), dst: fieldRef('xxreg0') }]),
    'move:NXM_NX_REG14[0..3]->NXM_NX_XXREG0[]',
  );
});

test('bad syntax is a FlowModelError naming the culprit', () => {
  assert.throws(() => parseFlow('priority=1'), /no actions/);
  assert.throws(() => parseFlow('bogus=1 actions=drop'), FlowModelError);
  assert.throws(() => parseFlow('nw_src=300.1.1.1 actions=drop'), /bad IPv4 address/);
  assert.throws(() => parseActions('frobnicate:3'), /unknown action/);
  assert.throws(() => parseActions('move:NXM_NX_REG0[0..40]->NXM_NX_REG1[]'), /bit range/);
  assert.throws(() => parseFlow('ct_state=+bogus actions=drop'), /unknown flag/);
});

const matchArb = fc
  .record({
    reg: fc.option(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.bigInt({ min: 0n, max: 0xffffffffn })), { nil: undefined }),
    ip: fc.option(fc.tuple(fc.bigInt({ min: 0n, max: 0xffffffffn }), fc.integer({ min: 1, max: 32 })), { nil: undefined }),
    mac: fc.option(fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }), { nil: undefined }),
    tcp: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
    ct: fc.option(fc.tuple(fc.bigInt({ min: 0n, max: 0xffn }), fc.bigInt({ min: 1n, max: 0xffn })), { nil: undefined }),
    v6: fc.option(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), { nil: undefined }),
  })
  .map(({ reg, ip, mac, tcp, ct, v6 }) => {
    const fs = [];
    if (reg !== undefined) fs.push(mf(`reg${reg[0]}`, reg[1]));
    if (mac !== undefined) fs.push(mf('dl_src', mac));
    if (ct !== undefined) fs.push(mf('ct_state', ct[0] & ct[1], ct[1]));
    if (v6 !== undefined) fs.push(mf('dl_type', 0x86ddn), mf('ipv6_dst', v6));
    else if (ip !== undefined || tcp !== undefined) {
      fs.push(mf('dl_type', 0x800n));
      if (ip !== undefined) {
        const mask = ((1n << BigInt(ip[1])) - 1n) << BigInt(32 - ip[1]);
        fs.push(mf('nw_src', ip[0] & mask, mask));
      }
      if (tcp !== undefined) fs.push(mf('nw_proto', 6n), mf('tcp_src', BigInt(tcp)));
    }
    return normalizeMatch(fs);
  });

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.integer({ min: 1, max: 0xfeff }).map((port): Action => ({ type: 'output', port })),
  fc
    .tuple(fc.option(fc.integer({ min: 1, max: 0xfeff }), { nil: undefined }), fc.integer({ min: 0, max: 254 }))
    .map(([port, table]): Action => (port === undefined ? { type: 'resubmit', table } : { type: 'resubmit', port, table })),
  fc.bigInt({ min: 0n, max: 0xffffffffn }).map((value): Action => ({ type: 'set_field', field: 'reg7', value })),
  fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }).map((value): Action => ({ type: 'set_field', field: 'dl_dst', value })),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).map((userdata): Action => ({ type: 'controller', userdata, pause: true })),
  fc
    .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 4 }))
    .map(([id, c]): Action => ({ type: 'conjunction', id, clause: c, nClauses: 4 })),
  fc
    .integer({ min: 0, max: 65535 })
    .map((zone): Action => ({ type: 'ct', commit: true, zone, table: 3, exec: [{ type: 'set_field', field: 'ct_mark', value: 1n }] })),
  fc.constantFrom<Action>(...FIXED_ACTIONS, { type: 'ct', nat: {} }),
);

test('property: parseFlow(formatFlow(f)) = f', () => {
  fc.assert(
    fc.property(flowArb(matchArb, actionArb, 5), (f) => {
      assert.deepEqual(parseFlow(formatFlow(f)), f);
    }),
    { numRuns: 500 },
  );
});

test('groups: dump-groups line parses; formatGroup round trips', () => {
  const g = parseGroup(
    ' group_id=5,type=select,bucket=bucket_id:0,weight:100,actions=ct(commit,table=8,zone=NXM_NX_REG11[0..15],nat(dst=10.0.0.1:80)),bucket=bucket_id:1,weight:50,actions=output:2,resubmit(,9)',
  );
  assert.deepEqual(g, {
    groupId: 5,
    type: 'select',
    buckets: [
      {
        bucketId: 0,
        weight: 100,
        actions: [
          {
            type: 'ct',
            commit: true,
            table: 8,
            zone: fieldRef('reg11', 0, 16),
            nat: { kind: 'dst', ipMin: 0x0a000001n, ipMax: 0x0a000001n, portMin: 80, portMax: 80 },
          },
        ],
      },
      {
        bucketId: 1,
        weight: 50,
        actions: [
          { type: 'output', port: 2 },
          { type: 'resubmit', table: 9 },
        ],
      },
    ],
  });
  assert.deepEqual(parseGroup(formatGroup(g)), g);
  const ff = { groupId: 1, type: 'ff' as const, buckets: [{ bucketId: 0, watchPort: 3, actions: [{ type: 'output' as const, port: 3 }] }] };
  assert.deepEqual(parseGroup(formatGroup(ff)), ff);
  assert.throws(() => parseGroup('type=all'), /no group_id/);
});
