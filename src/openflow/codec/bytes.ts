/**
 * Byte helpers shared by the OpenFlow codecs: a growable writer and a
 * bounds-checked reader over a Uint8Array slice (DataView built with the
 * slice's byteOffset and byteLength).
 */

/** Thrown for malformed or truncated OpenFlow input, or for a value that cannot be encoded. */
export class OpenFlowCodecError extends Error {
  override readonly name = 'OpenFlowCodecError';
}

/** Appends big-endian fields; `bytes()` returns the written part. */
export class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): this {
    this.ensure(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.length, v);
    this.length += 2;
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.length, v >>> 0);
    this.length += 4;
    return this;
  }
  u64(v: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, v));
    this.length += 8;
    return this;
  }
  /** `v` as an unsigned big-endian number of `n` bytes. */
  uint(v: bigint, n: number): this {
    this.ensure(n);
    for (let i = n - 1; i >= 0; i--) {
      this.buf[this.length + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.length += n;
    return this;
  }
  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }
  /** Zero bytes up to the next multiple of `align` counted from `from`. */
  pad(align: number, from = 0): this {
    const rem = (this.length - from) % align;
    return rem === 0 ? this : this.zeros(align - rem);
  }
  setU16(at: number, v: number): void {
    this.view.setUint16(at, v);
  }
  setU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Reads big-endian fields from `buf[start, end)`; every read is bounds-checked. */
export class Reader {
  readonly view: DataView;
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
    readonly what = 'message',
  ) {
    if (end > buf.length || start > end) throw new OpenFlowCodecError(`${what}: truncated`);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
  }
  get left(): number {
    return this.end - this.pos;
  }
  need(n: number): void {
    if (this.pos + n > this.end)
      throw new OpenFlowCodecError(`${this.what}: truncated (need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos})`);
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }
  uint(n: number): bigint {
    this.need(n);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.buf[this.pos + i] ?? 0);
    this.pos += n;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  /**
   * A reader over the next structure, whose u16 length (of the whole
   * structure, at least `min`) is `lenAt` bytes in; advances past it.
   */
  sized(lenAt: number, min: number, what: string): Reader {
    const start = this.pos;
    this.skip(lenAt);
    const length = this.u16();
    if (length < min) throw new OpenFlowCodecError(`${what} length ${length}`);
    this.pos = start;
    return this.sub(length, what);
  }

  /** A reader over the next `n` bytes; advances past them. */
  sub(n: number, what = this.what): Reader {
    this.need(n);
    const r = new Reader(this.buf, this.pos, this.pos + n, what);
    this.pos += n;
    return r;
  }
}

/** Hex of bytes, for messages and tests. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Bytes of a hex string (spaces and newlines ignored). */
export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/[\s.]/g, ''), 'hex'));
}

/** Appends an OpenFlow property (type, length, body), padded to 8 bytes; the length leaves the padding out. */
export function writeProperty(w: Writer, type: number, body: (w: Writer) => void): void {
  const s = w.length;
  w.u16(type).u16(0);
  body(w);
  w.setU16(s + 2, w.length - s);
  w.pad(8, s);
}

/** The next OpenFlow property of `what`: its type and a reader over its body; `r` moves past it and its padding. */
export function takeProperty(r: Reader, what: string): { type: number; body: Reader } {
  const type = r.u16();
  const length = r.u16();
  if (length < 4) throw new OpenFlowCodecError(`${what} property ${type}: bad length ${length}`);
  const body = r.sub(length - 4, `${what} property ${type}`);
  r.skip(Math.min(r.left, (8 - (length % 8)) % 8));
  return { type, body };
}
