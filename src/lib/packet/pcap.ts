/**
 * Reader for classic libpcap capture files (the format `tcpdump -w` writes):
 * a 24-byte global header, then per packet a 16-byte record header and the
 * captured bytes. Both byte orders and the nanosecond magic are accepted.
 */
import { PacketError, need } from './errors.js';

export interface PcapRecord {
  readonly tsSec: number;
  readonly tsFrac: number;
  readonly originalLength: number;
  readonly data: Uint8Array;
}

export interface PcapFile {
  readonly linkType: number;
  readonly records: readonly PcapRecord[];
}

export function parsePcap(buf: Uint8Array): PcapFile {
  need(buf, 0, 24, 'pcap global header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, false);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = false;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = true;
  else throw new PacketError('bad-value', `not a pcap file (magic 0x${magic.toString(16)})`);
  const linkType = dv.getUint32(20, le);
  const records: PcapRecord[] = [];
  let at = 24;
  while (at < buf.length) {
    need(buf, at, 16, 'pcap record header');
    const incl = dv.getUint32(at + 8, le);
    need(buf, at + 16, incl, 'pcap record data');
    records.push({
      tsSec: dv.getUint32(at, le),
      tsFrac: dv.getUint32(at + 4, le),
      originalLength: dv.getUint32(at + 12, le),
      data: buf.slice(at + 16, at + 16 + incl),
    });
    at += 16 + incl;
  }
  return { linkType, records };
}
