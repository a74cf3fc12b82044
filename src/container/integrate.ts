/**
 * `ovn-integrate`: prepares a host (or a VM) for the container tools
 * (CONTAINERS.md §1). The same OVSDB effects and messages as the 2015 shell
 * script, but a failure exits non-zero, set-ipam points ovn-remote at the
 * central node's southbound database (IP:6642; `ovnts up --listen=IP`),
 * set-encap-type refuses what upstream Open vSwitch cannot do, bridges get
 * the userspace datapath where the kernel has no openvswitch module, and
 * create-integration-bridge gives the chassis a system-id when it has none
 * (as ovs-ctl does at start), which ovn-controller needs.
 */
import { randomUUID } from 'node:crypto';
import { command, tryCommand } from '../host/command.js';
import { bridgeDatapathType } from '../host/datapath.js';
import { vsctl } from '../host/ovs-db.js';

/** Ports of the central node (`ovnts up --listen=IP`): OVN's SB and Neutron's API. */
export const SB_PORT = 6642;

export const ENCAP_TYPES = ['geneve', 'vxlan'] as const;

export interface IntegrateIo {
  readonly db: string;
  out(line: string): void;
  err(line: string): void;
}

/** An LSB `log_success_msg` line (ovs-lib's fallback adds the full stop). */
function ok(io: IntegrateIo, msg: string): number {
  io.out(`${msg}.`);
  return 0;
}

function failed(io: IntegrateIo, msg: string, why?: unknown): number {
  io.err(`${msg} ... failed!${why === undefined ? '' : ` (${why instanceof Error ? why.message : String(why)})`}`);
  return 1;
}

function netdevArgs(bridge: string): string[] {
  return bridgeDatapathType() === 'netdev' ? ['--', 'set', 'Bridge', bridge, 'datapath_type=netdev'] : [];
}

export async function createIntegrationBridge(io: IntegrateIo): Promise<number> {
  try {
    const sysId = (await vsctl(io.db, '--if-exists', 'get', 'Open_vSwitch', '.', 'external_ids:system-id')).trim();
    const netdev = bridgeDatapathType() === 'netdev';
    await vsctl(
      io.db,
      '--may-exist',
      'add-br',
      'br-int',
      '--',
      'br-set-external-id',
      'br-int',
      'bridge-id',
      'br-int',
      '--',
      'set',
      'bridge',
      'br-int',
      'other-config:disable-in-band=true',
      '--',
      'set',
      'bridge',
      'br-int',
      'fail-mode=secure',
      ...netdevArgs('br-int'),
      ...(netdev ? ['--', 'set', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-datapath-type=netdev'] : []),
      ...(sysId === '' ? ['--', 'set', 'Open_vSwitch', '.', `external_ids:system-id=${randomUUID()}`] : []),
    );
  } catch (e) {
    return failed(io, 'failed to create the integration bridge', e);
  }
  return ok(io, 'successfully created the integration bridge');
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** An IPv4 address, optionally with `:PORT` (for an IPAM on another port). */
export function parseHostPort(s: string): { host: string; port?: number } | undefined {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(s);
  if (m === null || !IPV4.test(m[1]!)) return undefined;
  if (m[2] === undefined) return { host: m[1]! };
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { host: m[1]!, port } : undefined;
}

export async function setIpam(io: IntegrateIo, ip: string | undefined): Promise<number> {
  const hp = ip === undefined ? undefined : parseHostPort(ip);
  if (ip === undefined || hp === undefined)
    return failed(
      io,
      `failed to set the ipam server ip address: ${ip === undefined ? 'no address given' : `"${ip}" is not an IPv4 address`}`,
    );
  try {
    await vsctl(io.db, 'set', 'Open_vSwitch', '.', `external_ids:ipam=${ip}`, `external_ids:ovn-remote="tcp:${hp.host}:${SB_PORT}"`);
  } catch (e) {
    return failed(io, 'failed to set the ipam server ip address', e);
  }
  return ok(io, 'successfully set the ipam server ip address');
}

export async function setTep(io: IntegrateIo, ip: string | undefined): Promise<number> {
  if (ip === undefined || !IPV4.test(ip))
    return failed(
      io,
      `failed to set the local tunnel endpoint: ${ip === undefined ? 'no address given' : `"${ip}" is not an IPv4 address`}`,
    );
  try {
    await vsctl(io.db, 'set', 'Open_vSwitch', '.', `external_ids:ovn-encap-ip=${ip}`);
  } catch (e) {
    return failed(io, 'failed to set the local tunnel endpoint', e);
  }
  return ok(io, 'successfully set the local tunnel endpoint');
}

export async function setEncapType(io: IntegrateIo, type: string | undefined): Promise<number> {
  if (type === 'stt') {
    io.err('ovn-integrate: set-encap-type: STT is not supported (upstream Open vSwitch has no STT tunnels); use geneve or vxlan');
    return 1;
  }
  if (type === undefined || !(ENCAP_TYPES as readonly string[]).includes(type)) {
    io.err(`ovn-integrate: set-encap-type: unknown encapsulation type "${type ?? ''}"; use geneve or vxlan`);
    return 1;
  }
  try {
    await vsctl(io.db, 'set', 'Open_vSwitch', '.', `external_ids:ovn-encap-type=${type}`);
  } catch (e) {
    return failed(io, 'failed to set the encap type', e);
  }
  return ok(io, 'successfully set the encap type');
}

interface AddrLine {
  readonly family: 'inet' | 'inet6';
  /** `ip addr add` arguments after the address' family, without the device. */
  readonly args: string[];
}

/** The interface's static addresses as `ip -o addr show` prints them (not dynamic, not scope link). */
export function staticAddresses(ipOutput: string): AddrLine[] {
  const out: AddrLine[] = [];
  for (const line of ipOutput.split('\n')) {
    const m = /^\d+:\s+\S+\s+(inet6?)\s+(.*)$/.exec(line.trim());
    if (m === null) continue;
    const words = m[2]!.split('\\')[0]!.trim().split(/\s+/);
    if (words.includes('dynamic')) continue;
    const scope = words.indexOf('scope');
    if (scope >= 0 && words[scope + 1] === 'link') continue;
    // Keep the address and its brd/scope/peer; drop the trailing label and flags.
    const args: string[] = [words[0]!];
    for (let i = 1; i < words.length; i++) {
      const w = words[i]!;
      if ((w === 'brd' || w === 'scope' || w === 'peer') && words[i + 1] !== undefined) {
        args.push(w, words[i + 1]!);
        i++;
      }
    }
    out.push({ family: m[1] as 'inet' | 'inet6', args });
  }
  return out;
}

/** Routes as `ip route show dev IF` prints them, minus the kernel's own. */
export function movableRoutes(ipOutput: string): string[][] {
  return ipOutput
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/\bproto kernel\b/.test(l))
    .map((l) => l.split(/\s+/).filter((w) => w !== 'linkdown'));
}

/**
 * Moves the NIC onto a standalone bridge of its own (br<IF>) that has its MAC,
 * then its static addresses and routes onto that bridge (the routes read
 * before the addresses go, since flushing them drops the routes).
 */
async function nicToBridge(io: IntegrateIo, nic: string): Promise<number> {
  const bridge = `br${nic}`;
  // From ip(8), not /sys/class/net: under nsenter --net, /sys is still another namespace's.
  const link = await tryCommand('ip', ['-o', 'link', 'show', 'dev', nic]);
  if (link === undefined) return failed(io, `failed to create OVS bridge ${bridge}: no network interface ${nic}`);
  const mac = /link\/ether ([0-9a-f:]{17})/.exec(link)?.[1];
  if (mac === undefined) return failed(io, `failed to create OVS bridge ${bridge}: ${nic} has no MAC address`);
  const addrs = staticAddresses(await command('ip', ['-o', 'addr', 'show', 'dev', nic]));
  const routes = [
    ...movableRoutes(await command('ip', ['route', 'show', 'dev', nic])),
    ...movableRoutes(await command('ip', ['-6', 'route', 'show', 'dev', nic])).map((r) => ['-6', ...r]),
  ];
  try {
    await vsctl(
      io.db,
      'add-br',
      bridge,
      '--',
      'br-set-external-id',
      bridge,
      'bridge-id',
      bridge,
      '--',
      'set',
      'bridge',
      bridge,
      'fail-mode=standalone',
      `other_config:hwaddr="${mac}"`,
      ...netdevArgs(bridge),
      '--',
      'add-port',
      bridge,
      nic,
    );
  } catch (e) {
    return failed(io, `failed to create OVS bridge ${bridge}`, e);
  }
  try {
    await command('ip', ['addr', 'flush', 'dev', nic]);
    for (const a of addrs) await command('ip', ['-f', a.family, 'addr', 'add', ...a.args, 'dev', bridge]);
    await command('ip', ['link', 'set', bridge, 'up']);
    // Fails ("FIB table does not exist") when there is nothing to flush.
    await tryCommand('ip', ['route', 'flush', 'dev', nic, 'proto', 'boot']);
    for (const r of routes) {
      const [v6, rest] = r[0] === '-6' ? [['-6'], r.slice(1)] : [[], r];
      await command('ip', [...v6, 'route', 'replace', ...rest, 'dev', bridge]);
    }
  } catch (e) {
    io.err(`failed to transfer IP address or routes from ${nic} to ${bridge}. Do it manually. (${(e as Error).message})`);
    return 1;
  }
  return ok(io, `successfully created OVS bridge ${bridge}`);
}

export async function nicsToBridge(io: IntegrateIo, nics: readonly string[]): Promise<number> {
  if (nics.length === 0) {
    io.err('ovn-integrate: nics-to-bridge: no interface given');
    return 1;
  }
  let status = 0;
  for (const nic of nics) status = (await nicToBridge(io, nic)) || status;
  return status;
}
