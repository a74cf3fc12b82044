/**
 * Typed errors of the packet codecs. Every parser checks lengths before it
 * reads, and every failure is a `PacketError` with a stable `reason` code, so
 * pinctrl can turn it into a counted drop reason instead of an exception.
 */

export type PacketErrorReason =
  'too-short' | 'bad-length' | 'bad-version' | 'bad-header-length' | 'bad-checksum' | 'bad-value' | 'unsupported';

export class PacketError extends Error {
  override readonly name = 'PacketError';
  constructor(
    readonly reason: PacketErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** Throws `too-short` unless `need` bytes are available at `offset` in `buf`. */
export function need(buf: Uint8Array, offset: number, need: number, what: string): void {
  if (offset < 0 || offset + need > buf.length) {
    throw new PacketError('too-short', `${what}: need ${need} bytes at offset ${offset}, have ${Math.max(0, buf.length - offset)}`);
  }
}

/** A DataView over exactly `buf`'s bytes (byteOffset and byteLength kept). */
export function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}
