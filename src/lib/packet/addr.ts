/**
 * MAC and IPv4 addresses as text and bytes. Text forms are the usual ones:
 * `02:ac:10:ff:01:29` (lower case, as OVN prints them) and dotted quad.
 */
import { PacketError } from './errors.js';

/** Parses `xx:xx:xx:xx:xx:xx` into 6 bytes; throws `bad-value` otherwise. */
export function macFromText(text: string): Uint8Array {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(
    text,
  );
  if (!m) throw new PacketError('bad-value', `invalid MAC address: ${JSON.stringify(text)}`);
  return Uint8Array.from(m.slice(1, 7).map((h) => parseInt(h, 16)));
}

/** Formats 6 bytes at `offset` as `xx:xx:xx:xx:xx:xx`. */
export function macToText(buf: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((buf[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Parses a dotted quad into a 32-bit unsigned number; throws `bad-value` otherwise. */
export function ipv4FromText(text: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) throw new PacketError('bad-value', `invalid IPv4 address: ${JSON.stringify(text)}`);
  const o = m.slice(1, 5).map(Number);
  if (o.some((x) => x > 255)) throw new PacketError('bad-value', `invalid IPv4 address: ${JSON.stringify(text)}`);
  return ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
}

/** Formats a 32-bit unsigned number as a dotted quad. */
export function ipv4ToText(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Reads a big-endian IPv4 address at `offset`. */
export function readIpv4(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

/** Writes a big-endian IPv4 address at `offset`. */
export function writeIpv4(buf: Uint8Array, offset: number, v: number): void {
  buf[offset] = (v >>> 24) & 255;
  buf[offset + 1] = (v >>> 16) & 255;
  buf[offset + 2] = (v >>> 8) & 255;
  buf[offset + 3] = v & 255;
}

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

/** Hex dump without separators, for fixtures and messages. */
export function toHex(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('hex');
}

/** Parses hex, ignoring whitespace, `.`/`:` separators and `#` comments to end of line. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/#[^\n]*/g, '').replace(/[\s.:]/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new PacketError('bad-value', 'invalid hex text');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}
