/**
 * pinctrl's nd_na and nd_na_router: the Neighbor Advertisement built for a
 * solicitation is the one RFC 4861 §4.4 and ovn-sb(5) define (to the
 * solicitor, from the target, hop limit 255, S and O flags, R for
 * nd_na_router, a target link-layer address option) with a correct ICMPv6
 * checksum, checked here by summing the pseudo-header and message
 * independently. That the Linux stack accepts it is shown end to end by
 * docker-plugin-host's ping6 between two ports with port security.
 * Anything but a solicitation is a typed drop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/lib/packet/addr.js';
import { buildNdNa } from '../../src/controller/pinctrl/nd.js';

/** A solicitation from fa:16:3e:00:00:0a (fd00::a) for fd00::b, to its solicited-node group. */
const NS = fromHex(
  [
    '3333ff00000b', // eth.dst: the solicited-node group's MAC
    'fa163e00000a', // eth.src
    '86dd', // IPv6
    '60000000', // version 6, traffic class 0, flow label 0
    '0020', // payload length 32
    '3a', // next header ICMPv6
    'ff', // hop limit 255
    'fd00000000000000000000000000000a', // ip6.src fd00::a
    'ff0200000000000000000001ff00000b', // ip6.dst ff02::1:ff00:b
    '87', // type 135 (NS)
    '00', // code 0
    '0000', // checksum (not checked by the builder)
    '00000000', // reserved
    'fd00000000000000000000000000000b', // target fd00::b
    '01', // option: source link-layer address
    '01', // length 8
    'fa163e00000a', // its MAC
  ].join(''),
);

/** The one's complement sum of the IPv6 pseudo-header and the ICMPv6 message: 0xffff when the checksum is right. */
function checksumSum(f: Uint8Array): number {
  const ip = 14;
  const len = (f[ip + 4]! << 8) | f[ip + 5]!;
  let sum = len + 58;
  for (let i = ip + 8; i < ip + 40; i += 2) sum += (f[i]! << 8) | f[i + 1]!;
  for (let i = ip + 40; i < ip + 40 + len; i += 2) sum += (f[i]! << 8) | (f[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

test('nd_na: the advertisement answering a solicitation, field by field, with a correct checksum', () => {
  const r = buildNdNa(NS, false);
  assert.ok(!('drop' in r), JSON.stringify(r));
  const hex = toHex(r.frame);
  assert.equal(hex.slice(0, 28), 'fa163e00000a' + '3333ff00000b' + '86dd', 'to the solicitor, from the solicitation eth.dst');
  assert.equal(
    hex.slice(28, 108),
    '60000000' + '0020' + '3a' + 'ff' + 'fd00000000000000000000000000000b' + 'fd00000000000000000000000000000a',
  );
  assert.equal(hex.slice(108, 110), '88', 'type 136 (NA)');
  assert.equal(hex.slice(110, 112), '00', 'code 0');
  assert.equal(hex.slice(116, 124), '60000000', 'flags S and O');
  assert.equal(hex.slice(124, 156), 'fd00000000000000000000000000000b', 'target');
  assert.equal(hex.slice(156), '0201' + '3333ff00000b', 'target link-layer address option (set by the nested nd.tll)');
  assert.equal(checksumSum(r.frame), 0xffff);
  const router = buildNdNa(NS, true);
  assert.ok(!('drop' in router));
  assert.equal(toHex(router.frame).slice(116, 118), 'e0', 'nd_na_router adds R');
  assert.equal(checksumSum(router.frame), 0xffff);
});

test('nd_na: not a solicitation, or too short, is a typed drop', () => {
  const arp = fromHex('ffffffffffff' + 'fa163e00000a' + '0806' + '00'.repeat(28));
  const na = Uint8Array.from(NS);
  na[54] = 136;
  const cases = [buildNdNa(arp, false), buildNdNa(na, false), buildNdNa(NS.subarray(0, 60), false)];
  assert.deepEqual(
    cases.map((c) => ('drop' in c ? c.drop : 'frame')),
    ['unexpected-packet', 'unexpected-packet', 'malformed-packet'],
  );
});

test('property: nd_na never throws on random frames', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (f) => {
      buildNdNa(f, false);
    }),
  );
});
