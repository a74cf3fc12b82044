/**
 * What the controller keeps of a logical flow's texts between passes
 * (src/controller/lflow/text-memo.ts): a match's shape (its expansion before
 * any port or chassis fact) gives the same plan as a fresh translation under
 * whatever facts it is used with later, parsed actions translate as the text
 * does, and the memo forgets texts no longer asked for once it outgrows its
 * limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseActions } from '../../src/lib/lflow/index.js';
import { matchShape, planMatch, toMatch, type MatchContext, type MatchPlan } from '../../src/controller/lflow/match.js';
import { translateActions, type ActionContext } from '../../src/controller/lflow/actions.js';
import { TextMemo } from '../../src/controller/lflow/text-memo.js';
import { formatActions, formatMatch } from '../../src/openflow/flow-text.js';

/** Two chassis' views of the same datapath: other port keys, other residents. */
const contexts: MatchContext[] = [
  { portKey: (n) => ({ p1: 1, p2: 2, p3: 3 })[n], isResident: (p) => p === 'p1' },
  { portKey: (n) => ({ p1: 7, p2: 2 })[n], isResident: (p) => p === 'p2' },
];

const MATCHES = [
  '1',
  'nd || nd_rs || nd_ra || mldv1 || mldv2',
  'arp.tpa == 10.0.0.2 && arp.op == 1 && inport == "p1"',
  'eth.dst == 02:00:00:00:00:02',
  'outport == "p2" && inport == "p1"',
  'inport == "p3" && is_chassis_resident("p1")',
  '!is_chassis_resident("p2") && ip4',
  'reg0[7] == 1 && ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443}',
  'ip4.src == {10.0.0.1, 10.0.0.2} && ip4.src == 10.0.0.1 && tcp.dst == {80, 443}',
  'ip.ttl == {0, 1}',
  '(inport == "p1" || inport == "p2") && udp.dst == {67, 547}',
];

const printed = (p: MatchPlan): unknown =>
  p.kind === 'plain'
    ? { plain: p.matches.map((m) => formatMatch(toMatch(m))) }
    : { base: formatMatch(toMatch(p.base)), dims: p.dims.map((d) => d.map((m) => formatMatch(toMatch(m)))) };

test('a match shape made once plans as a fresh translation under any facts', () => {
  for (const text of MATCHES) {
    // Made under the first chassis' facts, used under each.
    const shape = matchShape(text, {});
    for (const ctx of contexts) assert.deepEqual(printed(planMatch(text, ctx, shape)), printed(planMatch(text, ctx)), text);
  }
});

test('parsed actions translate as their text does', () => {
  const ctx = (portKey: ActionContext['portKey']): ActionContext => ({ pipeline: 'ingress', table: 19, isSwitch: true, portKey });
  for (const text of [
    'next;',
    'outport = "p2"; output;',
    'eth.dst = eth.src; eth.src = 02:00:00:00:00:02; arp.op = 2; arp.tha = arp.sha; arp.sha = 02:00:00:00:00:02; arp.tpa = arp.spa; arp.spa = 10.0.0.2; outport = inport; flags.loopback = 1; output;',
    'ct_next;',
  ]) {
    const parsed = parseActions(text);
    for (const keys of [{ p2: 2 }, { p2: 9 }] as Record<string, number>[]) {
      const a = translateActions(
        text,
        ctx((n) => keys[n]),
        parsed,
      );
      const b = translateActions(
        text,
        ctx((n) => keys[n]),
      );
      assert.equal(formatActions(a.actions), formatActions(b.actions), text);
      assert.deepEqual(a.prereqs, b.prereqs, text);
    }
  }
});

test('TextMemo: computes once per text, keeps nothing for a failed parse, prunes what was not asked for', () => {
  const memo = new TextMemo<number>();
  let made = 0;
  const make = (): number => ++made;
  assert.equal(memo.get('a', make), 1);
  assert.equal(memo.get('a', make), 1);
  assert.equal(memo.get('b', make), 2);
  assert.throws(() =>
    memo.get('bad', () => {
      throw new Error('syntax error');
    }),
  );
  assert.equal(memo.size, 2);
  assert.deepEqual(memo.stats, { hits: 1, misses: 3 });
  // Under the limit nothing goes; the next pass asks only for `a`; over the limit `b` goes.
  memo.prune(5);
  memo.get('a', make);
  memo.get('c', make);
  memo.prune(2);
  assert.equal(memo.size, 2);
  assert.equal(memo.get('b', make), 4);
});
