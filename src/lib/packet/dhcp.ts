/**
 * DHCPv4 messages (RFC 2131 section 2, RFC 2132): the fixed BOOTP part, the
 * magic cookie and the options (pad and end skipped; option overload, RFC
 * 2132 section 9.3, read from `file`/`sname`; repeated options kept in order,
 * RFC 3396). Relay agent information (82) is an ordinary option and passes
 * through.
 */
import { readIpv4, writeIpv4 } from './addr.js';
import { PacketError, need } from './errors.js';

export const DHCP_FIXED_LEN = 236;
export const DHCP_MAGIC_COOKIE = 0x63825363;
export const BOOTP_OP = { REQUEST: 1, REPLY: 2 } as const;
export const DHCP_BROADCAST_FLAG = 0x8000;
export const DHCP_PORT = { SERVER: 67, CLIENT: 68 } as const;

/** Option 53 values (RFC 2132 section 9.6). */
export const DHCP_MSG = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;

export interface DhcpOption {
  readonly code: number;
  readonly data: Uint8Array;
}

export interface DhcpPacket {
  readonly op: number;
  readonly htype: number;
  readonly hlen: number;
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  readonly flags: number;
  readonly ciaddr: number;
  readonly yiaddr: number;
  readonly siaddr: number;
  readonly giaddr: number;
  /** 16 bytes. */
  readonly chaddr: Uint8Array;
  /** 64 bytes. */
  readonly sname: Uint8Array;
  /** 128 bytes. */
  readonly file: Uint8Array;
  /** Options in wire order, pad and end excluded. */
  readonly options: readonly DhcpOption[];
}

const OPT_PAD = 0;
const OPT_END = 255;
const OPT_OVERLOAD = 52;

function readOptions(buf: Uint8Array, start: number, end: number, out: DhcpOption[], where: string): void {
  let at = start;
  while (at < end) {
    const code = buf[at]!;
    if (code === OPT_PAD) {
      at++;
      continue;
    }
    if (code === OPT_END) return;
    if (at + 2 > end) throw new PacketError('too-short', `DHCP option ${code} header truncated at offset ${at} of ${where}`);
    const len = buf[at + 1]!;
    if (at + 2 + len > end) throw new PacketError('too-short', `DHCP option ${code} (${len} bytes) truncated at offset ${at} of ${where}`);
    out.push({ code, data: buf.subarray(at + 2, at + 2 + len) });
    at += 2 + len;
  }
  // A missing end option is tolerated: the area simply ends.
}

function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/** Parses the DHCP message filling `buf[offset..offset+length)` (the UDP payload); chaddr, sname, file and option data are views into `buf`. */
export function parseDhcp(buf: Uint8Array, offset = 0, length = buf.length - offset): DhcpPacket {
  need(buf, offset, DHCP_FIXED_LEN + 4, 'DHCP message (fixed part and magic cookie)');
  need(buf, offset, length, 'DHCP message');
  const cookie = readU32(buf, offset + DHCP_FIXED_LEN);
  if (cookie !== DHCP_MAGIC_COOKIE) throw new PacketError('bad-value', `DHCP magic cookie 0x${cookie.toString(16)}, expected 0x63825363`);
  const options: DhcpOption[] = [];
  readOptions(buf, offset + DHCP_FIXED_LEN + 4, offset + length, options, 'options');
  const overload = options.find((o) => o.code === OPT_OVERLOAD);
  if (overload !== undefined) {
    const v = overload.data[0] ?? 0;
    if (v & 1) readOptions(buf, offset + 108, offset + 236, options, 'file');
    if (v & 2) readOptions(buf, offset + 44, offset + 108, options, 'sname');
  }
  return {
    op: buf[offset]!,
    htype: buf[offset + 1]!,
    hlen: buf[offset + 2]!,
    hops: buf[offset + 3]!,
    xid: readU32(buf, offset + 4),
    secs: (buf[offset + 8]! << 8) | buf[offset + 9]!,
    flags: (buf[offset + 10]! << 8) | buf[offset + 11]!,
    ciaddr: readIpv4(buf, offset + 12),
    yiaddr: readIpv4(buf, offset + 16),
    siaddr: readIpv4(buf, offset + 20),
    giaddr: readIpv4(buf, offset + 24),
    chaddr: buf.subarray(offset + 28, offset + 44),
    sname: buf.subarray(offset + 44, offset + 108),
    file: buf.subarray(offset + 108, offset + 236),
    options,
  };
}

/** The data of the first option `code`, or undefined. */
export function dhcpOption(p: Pick<DhcpPacket, 'options'>, code: number): Uint8Array | undefined {
  return p.options.find((o) => o.code === code)?.data;
}

/** The DHCP message type (option 53), or undefined for plain BOOTP. */
export function dhcpMessageType(p: Pick<DhcpPacket, 'options'>): number | undefined {
  const d = dhcpOption(p, 53);
  return d !== undefined && d.length === 1 ? d[0] : undefined;
}

/** Writes the fixed part and magic cookie of `p` at `offset` (options not included). */
export function writeDhcpFixed(out: Uint8Array, offset: number, p: Omit<DhcpPacket, 'options'>): void {
  need(out, offset, DHCP_FIXED_LEN + 4, 'DHCP output buffer');
  if (p.chaddr.length > 16 || p.sname.length > 64 || p.file.length > 128)
    throw new PacketError('bad-value', 'DHCP chaddr/sname/file too long');
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[offset] = p.op;
  out[offset + 1] = p.htype;
  out[offset + 2] = p.hlen;
  out[offset + 3] = p.hops;
  dv.setUint32(offset + 4, p.xid >>> 0);
  dv.setUint16(offset + 8, p.secs);
  dv.setUint16(offset + 10, p.flags);
  writeIpv4(out, offset + 12, p.ciaddr);
  writeIpv4(out, offset + 16, p.yiaddr);
  writeIpv4(out, offset + 20, p.siaddr);
  writeIpv4(out, offset + 24, p.giaddr);
  out.fill(0, offset + 28, offset + DHCP_FIXED_LEN);
  out.set(p.chaddr, offset + 28);
  out.set(p.sname, offset + 44);
  out.set(p.file, offset + 108);
  dv.setUint32(offset + DHCP_FIXED_LEN, DHCP_MAGIC_COOKIE);
}

/** The wire length of `options` (code, length, data each; no end option); throws for options that cannot be encoded. */
export function dhcpOptionsLength(options: readonly DhcpOption[]): number {
  let n = 0;
  for (const o of options) {
    if (o.code === OPT_PAD || o.code === OPT_END) throw new PacketError('bad-value', `option code ${o.code} carries no data`);
    if (o.data.length > 255) throw new PacketError('bad-length', `DHCP option ${o.code} of ${o.data.length} bytes`);
    n += 2 + o.data.length;
  }
  return n;
}

/** Writes `options` in wire form at `offset` (checked by {@link dhcpOptionsLength} first); returns the bytes written. */
export function writeDhcpOptions(out: Uint8Array, offset: number, options: readonly DhcpOption[]): number {
  const n = dhcpOptionsLength(options);
  need(out, offset, n, 'DHCP output buffer');
  let at = offset;
  for (const o of options) {
    out[at] = o.code;
    out[at + 1] = o.data.length;
    out.set(o.data, at + 2);
    at += 2 + o.data.length;
  }
  return n;
}

/** Options in wire form (code, length, data) without the end option. */
export function encodeDhcpOptions(options: readonly DhcpOption[]): Uint8Array {
  const out = new Uint8Array(dhcpOptionsLength(options));
  writeDhcpOptions(out, 0, options);
  return out;
}

/**
 * The message: fixed part, cookie, options, end, then zero padding up to
 * `minLength` bytes (BOOTP clients expect at least 300, RFC 1542 section 2.1).
 */
export function buildDhcp(p: DhcpPacket, minLength = 0): Uint8Array {
  const opts = encodeDhcpOptions(p.options);
  const len = Math.max(DHCP_FIXED_LEN + 4 + opts.length + 1, minLength);
  const out = new Uint8Array(len);
  writeDhcpFixed(out, 0, p);
  out.set(opts, DHCP_FIXED_LEN + 4);
  out[DHCP_FIXED_LEN + 4 + opts.length] = OPT_END;
  return out;
}
