/** Byte-level mutation of captured traffic, for the targets that read frames and packets. */
import fc from 'fast-check';

/** Byte-level mutations of captured traffic: flips, overwrites, cuts, insertions, length-field lies. */
export function mutated(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({
      op: fc.constant('set' as const),
      at: fc.nat(),
      byte: fc.constantFrom(0, 1, 0x7f, 0x80, 0xfe, 0xff),
      len: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('drop' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 32 }) }),
    fc.record({ op: fc.constant('random' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  );
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([seed, edits]) => {
    let b = Uint8Array.from(seed);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % (b.length + 1);
      switch (e.op) {
        case 'flip':
          if (at < b.length) b[at] = b[at]! ^ (1 << e.bit);
          break;
        case 'set':
          for (let i = 0; i < e.len && at + i < b.length; i++) b[at + i] = e.byte;
          break;
        case 'cut':
          b = b.slice(0, at);
          break;
        case 'drop':
          b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + e.len)]);
          break;
        case 'insert':
          b = Uint8Array.from([...b.subarray(0, at), ...e.bytes, ...b.subarray(at)]);
          break;
        case 'random':
          b.set(e.bytes.subarray(0, Math.max(0, b.length - at)), at);
          break;
      }
    }
    return b;
  });
}
