/**
 * How a pass decides its flow inputs are those already installed
 * (src/controller/flow-inputs.ts): facts compare as data, maps and sets in
 * any order, a difference anywhere counts, and the keys that only say how to
 * compute do not; SB changes of columns no flow reads do not count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowInputs, sameFacts } from '../../src/controller/flow-inputs.js';

const facts = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  config: { systemId: 'hv1', encaps: [{ type: 'geneve', ip: '192.0.2.1' }], externalIds: new Map([['a', '1']]) },
  chassisUuid: 'c1',
  bindings: {
    vifs: new Map([
      ['p1', { logicalPort: 'p1', ofport: 1 }],
      ['p2', { logicalPort: 'p2', ofport: 2 }],
    ]),
    localDatapaths: new Set(['d1', 'd2']),
  },
  ctZones: new Map([
    ['p1', 1],
    ['p2', 2],
  ]),
  ...over,
});

test('sameFacts: the same data built twice, maps and sets in another order', () => {
  assert.equal(sameFacts(facts(), facts()), true);
  const reordered = facts({
    bindings: {
      localDatapaths: new Set(['d2', 'd1']),
      vifs: new Map([
        ['p2', { ofport: 2, logicalPort: 'p2' }],
        ['p1', { logicalPort: 'p1', ofport: 1 }],
      ]),
    },
    ctZones: new Map([
      ['p2', 2],
      ['p1', 1],
    ]),
  });
  assert.equal(sameFacts(facts(), reordered), true);
  // Only how to compute: not an input.
  assert.equal(sameFacts(facts(), facts({ recompute: true, sameInputs: true })), true);
  assert.equal(sameFacts(facts(), facts({ extra: undefined })), true);
});

/** The facts with these VIFs (logical port → ofport) and local datapaths. */
const withBindings = (ofports: Record<string, number>, datapaths: string[]): Record<string, unknown> =>
  facts({
    bindings: {
      vifs: new Map(Object.entries(ofports).map(([p, ofport]) => [p, { logicalPort: p, ofport }])),
      localDatapaths: new Set(datapaths),
    },
  });

test('sameFacts: any difference counts', () => {
  // The helper builds the base facts from the base values: each variant below differs in one place.
  assert.equal(sameFacts(facts(), withBindings({ p1: 1, p2: 2 }, ['d1', 'd2'])), true);
  const variants: Record<string, unknown>[] = [
    facts({ chassisUuid: 'c2' }),
    facts({ ctZones: new Map([['p1', 1]]) }),
    facts({
      ctZones: new Map([
        ['p1', 1],
        ['p2', 3],
      ]),
    }),
    facts({
      ctZones: new Map([
        ['p1', 1],
        ['p3', 2],
      ]),
    }),
    withBindings({ p1: 1, p2: 9 }, ['d1', 'd2']),
    withBindings({}, ['d1', 'd2']),
    withBindings({ p1: 1, p2: 2 }, ['d1', 'd3']),
    facts({ config: { systemId: 'hv1', encaps: [{ type: 'vxlan', ip: '192.0.2.1' }], externalIds: new Map([['a', '1']]) } }),
    facts({ config: { systemId: 'hv1', encaps: [], externalIds: new Map([['a', '1']]) } }),
    facts({ config: { systemId: 'hv1', encaps: [{ type: 'geneve', ip: '192.0.2.1' }], externalIds: new Map([['a', '2']]) } }),
    facts({ localnetPorts: new Map() }),
    facts({
      ctZones: [
        ['p1', 1],
        ['p2', 2],
      ],
    }),
  ];
  for (const v of variants) {
    assert.equal(
      sameFacts(facts(), v),
      false,
      JSON.stringify(v, (_, x: unknown) => (x instanceof Map || x instanceof Set ? [...x] : x)),
    );
    assert.equal(sameFacts(v, facts()), false);
  }
});

test('FlowInputs: unchanged until the facts or an SB column flows read change', () => {
  const fi = new FlowInputs();
  const s1 = fi.stamp(facts());
  assert.equal(fi.unchanged(s1), false);
  fi.wasInstalled(s1);
  assert.equal(fi.unchanged(fi.stamp(facts())), true);
  assert.equal(fi.unchanged(fi.stamp(facts({ chassisUuid: 'c2' }))), false);
  fi.invalidate();
  assert.equal(fi.unchanged(fi.stamp(facts())), false);
});
