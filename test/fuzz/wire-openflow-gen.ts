/**
 * Generators of what a switch could send a controller: the frames a real
 * ovs-vswitchd sent (test/fixtures/fuzz/wire/openflow-from-switch.hex,
 * recorded by wire-capture.ts), mutated; and structure-aware frames built
 * from OpenFlow 1.5's layouts (header, multipart replies with their entry
 * lengths, Nicira experimenter messages with TLV properties, errors, hello
 * elements) whose every length may lie.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { fromHex } from '../../src/lib/packet/addr.js';
import { mutated } from './mutate-bytes.js';

const FIXTURES = new URL('../../../test/fixtures/fuzz/wire/', import.meta.url);

/** Every frame of a fixture file (one hex frame per line, `#` comments). */
export function fixtureFrames(name: string): Uint8Array[] {
  return readFileSync(new URL(name, FIXTURES), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '')
    .map((l) => fromHex(l));
}

function u16(v: number): number[] {
  return [(v >> 8) & 255, v & 255];
}
function u32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

const lengthLie = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
  { weight: 1, arbitrary: fc.integer({ min: -8, max: 8 }).map((d) => ({ delta: d })) },
);

function fixLength(lie: number | { delta: number } | undefined, actual: number): number {
  if (lie === undefined) return actual;
  if (typeof lie === 'number') return lie;
  return Math.max(0, Math.min(0xffff, actual + lie.delta));
}

/** A length-prefixed TLV (`type(16) length(16) body`, padded to 8), its length possibly wrong. */
const tlv = fc
  .tuple(fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 0xffff })), fc.uint8Array({ maxLength: 48 }), lengthLie)
  .map(([type, body, lie]) => {
    const len = fixLength(lie, 4 + body.length);
    const pad = (8 - ((4 + body.length) % 8)) % 8;
    return [...u16(type), ...u16(len), ...body, ...new Array<number>(pad).fill(0)];
  });

/** A multipart entry whose first 16 bits are its own length (flow desc, group desc, port). */
const lengthEntry = fc.tuple(fc.uint8Array({ maxLength: 120 }), lengthLie).map(([body, lie]) => {
  const len = fixLength(lie, 2 + body.length);
  return [...u16(len), ...body];
});

const body = fc.oneof(
  // Multipart reply: type, flags (more), pad, entries.
  fc
    .tuple(
      fc.oneof(fc.constantFrom(0, 1, 7, 13), fc.integer({ min: 0, max: 0xffff })),
      fc.constantFrom(0, 1),
      fc.array(lengthEntry, { maxLength: 4 }),
    )
    .map(([t, more, es]) => ({ type: 19, bytes: [...u16(t), ...u16(more), 0, 0, 0, 0, ...es.flat()] })),
  // Nicira experimenter: packet-in2 (properties), TLV table reply, or another subtype.
  fc
    .tuple(fc.oneof(fc.constantFrom(30, 26, 28, 16), fc.nat()), fc.array(tlv, { maxLength: 8 }), fc.boolean())
    .map(([sub, props, nx]) => ({ type: 4, bytes: [...u32(nx ? 0x2320 : 0x4f4e4600), ...u32(sub), ...props.flat()] })),
  // Error: type, code (experimenter when 0xffff), data.
  fc
    .tuple(
      fc.oneof(fc.integer({ min: 0, max: 18 }), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff })),
      fc.nat(0xffff),
      fc.uint8Array({ maxLength: 64 }),
    )
    .map(([t, c, d]) => ({ type: 1, bytes: [...u16(t), ...u16(c), ...d] })),
  // Hello with elements.
  fc.array(tlv, { maxLength: 4 }).map((els) => ({ type: 0, bytes: els.flat() })),
  // Port status: reason, pad, a port whose length may lie.
  fc.tuple(fc.nat(4), lengthEntry).map(([reason, port]) => ({ type: 12, bytes: [reason, 0, 0, 0, 0, 0, 0, 0, ...port] })),
  // Anything else, any bytes.
  fc.tuple(fc.nat(255), fc.uint8Array({ maxLength: 200 })).map(([type, b]) => ({ type, bytes: [...b] })),
);

/** One frame: header (version, type, length, xid) and body, the length field usually right. */
export const structuredFrame: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.oneof({ weight: 9, arbitrary: fc.constant(6) }, { weight: 1, arbitrary: fc.nat(255) }), body, lengthLie, fc.nat())
  .map(([version, b, lie, xid]) => {
    const len = fixLength(lie, 8 + b.bytes.length);
    return Uint8Array.from([version, b.type, ...u16(len), ...u32(xid), ...b.bytes]);
  });

/** Real frames mutated, structure-aware frames, and huge ones. */
export function switchFrames(): fc.Arbitrary<Uint8Array> {
  const real = fixtureFrames('openflow-from-switch.hex');
  return fc.oneof(
    { weight: 4, arbitrary: mutated(real) },
    { weight: 4, arbitrary: structuredFrame },
    { weight: 1, arbitrary: fc.constantFrom(...real) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.nat(255), fc.integer({ min: 8, max: 0xffff })).map(([type, len]) => {
        // The header, then zeros to `len` (built in place: spreading 64 KiB into an array took a fifth of the target's time).
        const frame = new Uint8Array(len);
        frame.set([6, type, ...u16(len), 0, 0, 0, 1]);
        return frame;
      }),
    },
  );
}
