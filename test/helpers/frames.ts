/**
 * Hand-made Ethernet frames for isolation tests — 802.1Q/802.1ad tags,
 * IPv4/UDP with a marker payload, ARP replies — sent raw on an interface
 * (an AF_PACKET socket, from python3, inside a namespace), and tcpdump
 * captures that tell, per packet, its outer VLAN and whether it carries a
 * marker.
 */
import { run, runOk, spawnDaemon } from './proc.js';

export const TPID_8021Q = 0x8100;
export const TPID_8021AD = 0x88a8;

const mac = (m: string): Buffer => Buffer.from(m.split(':').join(''), 'hex');
const ip4 = (a: string): Buffer => Buffer.from(a.split('.').map(Number));
const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);

/** dst, src, the tags outer first ([TPID, VID]), the ethertype, the payload. */
export function ethernet(dst: string, src: string, tags: ReadonlyArray<readonly [number, number]>, type: number, payload: Buffer): Buffer {
  return Buffer.concat([mac(dst), mac(src), ...tags.map(([tpid, vid]) => Buffer.concat([u16(tpid), u16(vid)])), u16(type), payload]);
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) + (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/** An IPv4 UDP datagram (UDP checksum 0: none, allowed in IPv4) carrying `data`. */
export function ipv4Udp(src: string, dst: string, dport: number, data: string): Buffer {
  const body = Buffer.from(data);
  const udp = Buffer.concat([u16(40000), u16(dport), u16(8 + body.length), u16(0), body]);
  const hdr = Buffer.concat([
    Buffer.from([0x45, 0]),
    u16(20 + udp.length),
    u16(0),
    u16(0x4000),
    Buffer.from([64, 17]),
    u16(0),
    ip4(src),
    ip4(dst),
  ]);
  hdr.writeUInt16BE(checksum(hdr), 10);
  return Buffer.concat([hdr, udp]);
}

/** An ARP reply: `spa` is at `sha`, to `tha`/`tpa`. */
export function arpReply(sha: string, spa: string, tha: string, tpa: string): Buffer {
  return Buffer.concat([u16(1), u16(0x0800), Buffer.from([6, 4]), u16(2), mac(sha), ip4(spa), mac(tha), ip4(tpa)]);
}

const SENDER = [
  'import socket, sys, time',
  's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
  's.bind((sys.argv[1], 0))',
  'for _ in range(int(sys.argv[2])):',
  '    for f in sys.argv[3:]:',
  '        s.send(bytes.fromhex(f))',
  '    time.sleep(0.05)',
].join('\n');

/** Sends each frame `times` times on `iface`; `prefix` enters the namespace (e.g. nsenter --net=...). */
export async function sendFrames(prefix: readonly string[], iface: string, frames: readonly Buffer[], times = 5): Promise<void> {
  await runOk(prefix[0]!, [...prefix.slice(1), 'python3', '-c', SENDER, iface, String(times), ...frames.map((f) => f.toString('hex'))]);
}

/** One captured packet: its outer VLAN (undefined: untagged), its `tcpdump -e` line and its payload as ASCII. */
export interface Captured {
  readonly vlan: number | undefined;
  readonly header: string;
  readonly text: string;
}

export interface Capture {
  /** What it saw so far. */
  sofar(): Captured[];
  /** Stops tcpdump and returns what it saw. */
  stop(): Promise<Captured[]>;
}

/** `tcpdump -e -A` on `iface` inside `prefix` (only received frames with `inbound`), running once it listens. */
export async function startCapture(prefix: readonly string[], iface: string, name: string, inbound = false): Promise<Capture> {
  const args = [
    ...prefix.slice(1),
    'tcpdump',
    '-l',
    '-U',
    '-nn',
    '-e',
    '-tt',
    '-A',
    '-s',
    '0',
    '-i',
    iface,
    ...(inbound ? ['-Q', 'in'] : []),
  ];
  let listening = false;
  const d = await spawnDaemon(prefix[0]!, args, {
    name,
    onLine: (l) => void (listening ||= l.includes('listening on')),
    readyWhen: async () => listening,
  });
  return {
    sofar: () => parseCapture(d.output()),
    stop: async () => {
      await d.stop(3000);
      return parseCapture(d.output());
    },
  };
}

function parseCapture(out: string): Captured[] {
  const packets: Captured[] = [];
  let cur: { header: string; lines: string[] } | undefined;
  const flush = (): void => {
    if (cur === undefined) return;
    const vlan = /\bvlan (\d+),/.exec(cur.header)?.[1];
    packets.push({ vlan: vlan === undefined ? undefined : Number(vlan), header: cur.header, text: cur.lines.join('') });
  };
  for (const line of out.split('\n')) {
    if (/^\d+\.\d+ /.test(line)) {
      flush();
      cur = { header: line, lines: [] };
    } else cur?.lines.push(line);
  }
  flush();
  return packets;
}

/** The network namespace of a process, as a command prefix. */
export function netnsOf(pid: number | string): string[] {
  return ['nsenter', `--net=/proc/${pid}/ns/net`];
}

/** Runs `cmd` in the namespace of `prefix`. */
export function inPrefix(prefix: readonly string[], cmd: string, args: readonly string[]): ReturnType<typeof run> {
  return run(prefix[0]!, [...prefix.slice(1), cmd, ...args], { timeoutMs: 60_000 });
}
