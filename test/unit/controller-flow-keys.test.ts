/**
 * ofctrl's keys for model flows (src/controller/flow-keys.ts): the compact
 * identity groups flows exactly as their ovs-ofctl printing (table, priority,
 * match) does, whatever order or spelling the match was built in; the
 * shortcut for built flows never calls different contents the same; and a
 * diff compares read-back flows through their printed content (load and
 * set_field the same), built ones through the shortcut.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { flowContent, flowIdentity, sameBuiltContent } from '../../src/controller/flow-keys.js';
import { diffFlows, indexFlows, type FlowKeys } from '../../src/controller/ofctrl.js';
import { flow, matchField, type Action, type Flow, type MatchField } from '../../src/openflow/flow.js';
import { formatMatch, parseFlow } from '../../src/openflow/flow-text.js';

/** Match fields to combine: several spellings and masks of the same fields, wide registers, protocol fields. */
const FIELDS: readonly (readonly MatchField[])[] = [
  matchField('in_port', 1n),
  matchField('in_port', 2n),
  matchField('metadata', 1n),
  matchField('metadata', 1n, 0xffffffffffffffffn),
  matchField('metadata', 1n, 0xffn),
  matchField('reg14', 5n),
  matchField('reg10', 0x10n, 0x10n),
  matchField('xxreg0', 0xfe80n << 112n),
  matchField('dl_type', 0x800n),
  matchField('dl_type', 0x86ddn),
  matchField('nw_proto', 6n),
  matchField('dl_vlan', 7n),
  matchField('vlan_tci', 0x1007n, 0x1fffn),
  matchField('dl_src', 0x020000000001n),
  matchField('nw_dst', 0x0a000000n, 0xffffff00n),
];

const matchArb = fc
  .subarray([...FIELDS.keys()])
  .chain((idx) =>
    fc.shuffledSubarray(idx, { minLength: idx.length, maxLength: idx.length }).map((order) => order.flatMap((i) => FIELDS[i]!)),
  );
const flowArb = fc
  .record({ table: fc.integer({ min: 0, max: 1 }), priority: fc.constantFrom(0, 100), match: matchArb })
  .filter(({ match }) => {
    // Contradictory combinations (two in_ports) are no flow.
    try {
      flow(0, 0, match, []);
      return true;
    } catch {
      return false;
    }
  })
  .map(({ table, priority, match }) => flow(table, priority, match, []));

test('flowIdentity: equal exactly when table, priority and printed match are', () => {
  const printed = (f: Flow): string => `${f.table}/${f.priority}/${formatMatch(f.match)}`;
  // Every match of up to two of the fields, in both orders, at two priorities: each pair compared.
  const flows: Flow[] = [];
  for (const priority of [0, 100])
    for (let i = -1; i < FIELDS.length; i++)
      for (let j = -1; j < FIELDS.length; j++) {
        try {
          flows.push(flow(0, priority, [...(FIELDS[i] ?? []), ...(FIELDS[j] ?? [])], []));
        } catch {
          // Contradictory (two in_ports): no flow.
        }
      }
  const byPrinted = new Map<string, Set<string>>();
  const byIdentity = new Map<string, Set<string>>();
  for (const f of flows) {
    const p = printed(f);
    const id = flowIdentity(f);
    byPrinted.set(p, (byPrinted.get(p) ?? new Set()).add(id));
    byIdentity.set(id, (byIdentity.get(id) ?? new Set()).add(p));
  }
  for (const [p, ids] of byPrinted) assert.equal(ids.size, 1, `${p}: ${[...ids].join(' | ')}`);
  for (const [id, ps] of byIdentity) assert.equal(ps.size, 1, `${id}: ${[...ps].join(' | ')}`);
  // And random combinations in random order.
  fc.assert(
    fc.property(flowArb, (a) => {
      const b = flow(a.table, a.priority, [...a.match].reverse(), []);
      assert.equal(flowIdentity(a), flowIdentity(b));
    }),
    { numRuns: 300 },
  );
});

test('flowIdentity: a flow read back from its printing has the identity of the flow built', () => {
  fc.assert(
    fc.property(flowArb, (f) => {
      const back = parseFlow(`table=${f.table},priority=${f.priority},${formatMatch(f.match)} actions=drop`);
      assert.equal(flowIdentity(back), flowIdentity(f));
    }),
    { numRuns: 300 },
  );
});

const load = (v: bigint): Action => ({ type: 'load', dst: { field: 'reg15', ofs: 0, nBits: 32 }, value: v });
const setReg15 = (v: bigint): Action => ({ type: 'set_field', field: 'reg15', value: v });

test('sameBuiltContent: the same data built twice is the same; any difference is not', () => {
  const a = flow(0, 100, matchField('in_port', 1n), [setReg15(1n), { type: 'resubmit', table: 8 }]);
  // A key set to undefined (as a spread of optional settings can leave it) is no key.
  const b = flow(0, 100, matchField('in_port', 1n), [setReg15(1n), { type: 'resubmit', table: 8, port: undefined } as unknown as Action]);
  assert.equal(sameBuiltContent(a, b), true);
  assert.equal(sameBuiltContent(a, { ...a, cookie: 1n }), false);
  assert.equal(sameBuiltContent(a, { ...a, actions: [setReg15(2n), { type: 'resubmit', table: 8 }] }), false);
  assert.equal(sameBuiltContent(a, { ...a, actions: [setReg15(1n)] }), false);
  assert.equal(sameBuiltContent(a, { ...a, actions: [setReg15(1n), { type: 'resubmit', table: 9 }] }), false);
  const note = (d: number[]): Flow => ({ ...a, actions: [{ type: 'note', data: new Uint8Array(d) }] });
  assert.equal(sameBuiltContent(note([1, 2]), note([1, 2])), true);
  assert.equal(sameBuiltContent(note([1, 2]), note([1, 3])), false);
  // Never "same" where the printed contents differ.
  for (const [x, y] of [
    [a, b],
    [note([1, 2]), note([1, 3])],
  ] as const)
    if (sameBuiltContent(x, y)) assert.equal(flowContent(x), flowContent(y));
});

test('diffFlows with read-back flows: those compare by printed content, built ones by the shortcut', () => {
  let printed = 0;
  const keys: FlowKeys<Flow> = {
    identity: flowIdentity,
    content: (f) => (printed++, flowContent(f)),
    sameBuilt: sameBuiltContent,
  };
  const m = matchField('reg14', 1n);
  // OVS reports a whole-register load as set_field: the same flow, nothing to send.
  const dumped = flow(40, 100, m, [setReg15(3n)]);
  const built = flow(40, 100, m, [load(3n)]);
  const readBack = new WeakSet([dumped]);
  const d1 = diffFlows(indexFlows([dumped], keys), indexFlows([built], keys), keys, readBack);
  assert.deepEqual([d1.add.length, d1.modify.length, d1.remove.length], [0, 0, 0]);
  assert.equal(printed, 2);
  // Between built flows no content is printed: equal data is unchanged, other data replaced.
  printed = 0;
  const same = flow(40, 100, m, [load(3n)]);
  const other = flow(40, 100, m, [load(4n)]);
  const d2 = diffFlows(indexFlows([built], keys), indexFlows([same], keys), keys, readBack);
  assert.equal(d2.modify.length, 0);
  const d3 = diffFlows(indexFlows([built], keys), indexFlows([other], keys), keys, readBack);
  assert.deepEqual(d3.modify, [other]);
  assert.equal(printed, 0);
  // Without the read-back set (or the shortcut) every comparison prints, as before.
  const d4 = diffFlows(indexFlows([built], keys), indexFlows([same], keys), keys);
  assert.equal(d4.modify.length, 0);
  assert.equal(printed, 2);
});
