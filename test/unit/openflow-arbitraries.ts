/**
 * fast-check pieces the OpenFlow property tests share (openflow-codec,
 * openflow-text): the argument-less actions, and a flow built from a match
 * and an action arbitrary.
 */
import fc from 'fast-check';
import { type Action, type Flow, type Match, flow } from '../../src/openflow/flow.js';

/** Actions with nothing (or one fixed value) to vary. */
export const FIXED_ACTIONS: readonly Action[] = [
  { type: 'ct_clear' },
  { type: 'pop_vlan' },
  { type: 'dec_ttl' },
  { type: 'exit' },
  { type: 'push_vlan', ethertype: 0x8100 },
];

/** A flow in tables 0..254 with any priority and cookie, its match from `match`, up to `maxActions` actions from `action`. */
export function flowArb(match: fc.Arbitrary<Match>, action: fc.Arbitrary<Action>, maxActions: number): fc.Arbitrary<Flow> {
  return fc
    .tuple(
      match,
      fc.array(action, { maxLength: maxActions }),
      fc.integer({ min: 0, max: 254 }),
      fc.integer({ min: 0, max: 65535 }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    )
    .map(([m, actions, table, priority, cookie]) => flow(table, priority, m, actions, cookie));
}
