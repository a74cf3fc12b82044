/**
 * Generators for the logical-flow language fuzz targets: the language's own
 * vocabulary as token streams, structure-aware expressions, pathological
 * inputs, and edits of the real northd's matches and actions.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { PUNCTUATION } from '../../src/lib/lflow/index.js';

/** The match and actions columns of the real northd's flows: `r|s <stage> <priority> (<match>) (<actions>)`. */
export function realFlows(): { matches: string[]; actions: string[] } {
  const text = readFileSync(new URL('../../../test/fixtures/northd/small-stateful.lflows', import.meta.url), 'utf8');
  const matches: string[] = [];
  const actions: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\S+ \S+ \d+ \((.*)\) \((.*)\)$/.exec(line);
    if (m === null) continue;
    matches.push(m[1]!);
    actions.push(m[2]!);
  }
  return { matches, actions };
}

export const FIELDS = [
  'eth.src',
  'eth.dst',
  'eth.type',
  'vlan.tci',
  'vlan.present',
  'ip4.src',
  'ip4.dst',
  'ip6.src',
  'ip6.dst',
  'ip.proto',
  'ip.ttl',
  'tcp.dst',
  'tcp.src',
  'tcp.flags',
  'udp.dst',
  'icmp4.type',
  'icmp6.code',
  'arp.op',
  'arp.spa',
  'nd.target',
  'inport',
  'outport',
  'reg0',
  'reg9',
  'xreg0',
  'xxreg1',
  'ct_state',
  'ct_mark',
  'ct_label',
  'ct.est',
  'ct.new',
  'flags.loopback',
  'eth.mcast',
  'ip4',
  'ip6',
  'tcp',
  'udp',
  'arp',
  'nd',
  'icmp',
  'ip4.mcast',
  'ip.is_frag',
  'metadata',
  'pkt.mark',
  'reg0[3]',
  'reg0[0..15]',
  'xxreg0[96..127]',
  'nosuch',
  'ip4.src[',
  'reg0[5..2]',
  'reg99',
];
export const CONSTANTS = [
  '0',
  '1',
  '65535',
  '0x800',
  '0x0',
  '10.0.0.1',
  '10.0.0.0/8',
  '10.0.0.0/33',
  '255.255.255.255',
  '1.2.3',
  '::1',
  'fe80::/64',
  '::/129',
  '00:00:00:00:00:01',
  '01:00:00:00:00:00/01:00:00:00:00:00',
  '"lp1"',
  '"with\\"quote"',
  '""',
  '$as1',
  '@pg1',
  '$nosuch',
  '0x' + 'f'.repeat(40),
  '9'.repeat(40),
  '1/0',
  '0/1',
  '10.0.0.1/255.0.255.0',
  'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  '1e5',
  '-1',
  '0b1',
  '08',
];
/** The language's punctuation, and characters that are only valid inside other tokens (or nowhere). */
export const PUNCT: readonly string[] = [...PUNCTUATION, '.', ':', '/', '$', '@', '"', '\\', '&', '|'];
export const ACTIONS = [
  'next;',
  'next(1);',
  'next(pipeline=egress, table=3);',
  'drop;',
  'output;',
  'reg0 = 1;',
  'reg0[0..3] = 0x1f;',
  'eth.dst <-> eth.src;',
  'outport = "lp1";',
  'ct_next;',
  'ct_commit;',
  'ct_commit { ct_label.blocked = 1; };',
  'arp { eth.dst = ff:ff:ff:ff:ff:ff; output; };',
  'reg9[2] = lookup_arp(inport, arp.spa, arp.sha);',
  'put_dhcp_opts(offerip = 10.0.0.2, router = 10.0.0.1, lease_time = 3600);',
  'icmp4 { eth.dst <-> eth.src; output; };',
  'ct_lb(backends=10.0.0.1:80);',
  'ip.ttl--;',
  'flags.loopback = 1;',
  'clone { output; };',
  'get_arp(outport, reg0);',
  'put_arp(inport, arp.spa, arp.sha);',
];

/** Random token streams over the language's own words. */
export const tokens = fc
  .array(fc.oneof(fc.constantFrom(...FIELDS), fc.constantFrom(...CONSTANTS), fc.constantFrom(...PUNCT), fc.string({ maxLength: 4 })), {
    maxLength: 30,
  })
  .map((t) => t.join(' '));

/** Structure-aware expressions. */
export const { expr } = fc.letrec<{ expr: string; rel: string }>((tie) => ({
  rel: fc.oneof(
    fc
      .tuple(fc.constantFrom(...FIELDS), fc.constantFrom('==', '!=', '<', '<=', '>', '>='), fc.constantFrom(...CONSTANTS))
      .map(([f, o, c]) => `${f} ${o} ${c}`),
    fc
      .tuple(fc.constantFrom(...FIELDS), fc.array(fc.constantFrom(...CONSTANTS), { maxLength: 6 }))
      .map(([f, cs]) => `${f} == {${cs.join(', ')}}`),
    fc.constantFrom(...FIELDS),
    fc.constantFrom('1', '0', 'is_chassis_resident("lp1")', 'is_chassis_resident(lp1)'),
  ),
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('rel'),
    tie('expr').map((e) => `!${e}`),
    tie('expr').map((e) => `(${e})`),
    fc.tuple(tie('expr'), fc.constantFrom('&&', '||'), tie('expr')).map(([a, o, b]) => `${a} ${o} ${b}`),
  ),
}));

/** Inputs no sane user writes, but a hostile or broken one may. */
export const pathological = fc.oneof(
  fc.integer({ min: 1, max: 20_000 }).map((n) => `${'('.repeat(n)}ip4${')'.repeat(n)}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `${'!'.repeat(n)}ip4`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `${'('.repeat(n)}ip4`),
  fc.integer({ min: 1, max: 5_000 }).map((n) => Array.from({ length: n }, (_, i) => `reg0 == ${i}`).join(' || ')),
  fc
    .integer({ min: 1, max: 5_000 })
    .map((n) => `ip4.src == {${Array.from({ length: n }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1`).join(', ')}}`),
  // A product of alternatives: 2^n conjunctions unless bounded.
  fc
    .integer({ min: 1, max: 64 })
    .map((n) =>
      Array.from({ length: n }, (_, i) => `(reg${i % 10}[${i % 32}] == 1 || reg${(i + 3) % 10}[${(i * 7) % 32}] == 0)`).join(' && '),
    ),
  fc.integer({ min: 1, max: 2_000 }).map((n) => `reg0 == 0x${'f'.repeat(n)}`),
  fc.integer({ min: 1, max: 2_000 }).map((n) => `reg0 == ${'9'.repeat(n)}`),
  fc.integer({ min: 1, max: 2_000 }).map((n) => `inport == "${'a'.repeat(n)}`),
  fc.integer({ min: 1, max: 10_000 }).map((n) => `reg0[${'9'.repeat(Math.min(n, 400))}..${n}] == 1`),
);

/** One edit of a real string: a character inserted, deleted or replaced, or a cut. */
export function mutatedText(seeds: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.tuple(
    fc.constantFrom('ins', 'del', 'rep', 'cut'),
    fc.nat(),
    fc.oneof(fc.constantFrom(...PUNCT, ' ', '0', 'x', '"', '\u0000', 'é'), fc.string({ maxLength: 3 })),
  );
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([s, edits]) => {
    let t = s;
    for (const [op, at0, c] of edits) {
      const at = at0 % (t.length + 1);
      if (op === 'ins') t = t.slice(0, at) + c + t.slice(at);
      else if (op === 'del') t = t.slice(0, at) + t.slice(at + 1);
      else if (op === 'rep') t = t.slice(0, at) + c + t.slice(at + c.length);
      else t = t.slice(0, at);
    }
    return t;
  });
}
