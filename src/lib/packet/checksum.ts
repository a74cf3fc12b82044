/**
 * The Internet checksum (RFC 1071): one's complement of the one's complement
 * sum of 16-bit words, used by IPv4, UDP, ICMPv4.
 */

/** Adds `buf[offset..offset+length)` as big-endian 16-bit words to `sum` (an odd last byte is padded with zero). */
export function sumWords(buf: Uint8Array, offset: number, length: number, sum = 0): number {
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/** Folds a running sum into the 16-bit one's complement checksum. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The checksum of `length` bytes at `offset`. A region that holds its own correct checksum yields 0. */
export function internetChecksum(buf: Uint8Array, offset: number, length: number): number {
  return finishChecksum(sumWords(buf, offset, length));
}

/** The sum of the IPv4 pseudo-header (RFC 768) for UDP/TCP checksums. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
