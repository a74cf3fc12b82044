/**
 * A container interface for runtimes that hand over a network namespace by
 * path (CNI's CNI_NETNS, libnetwork's SandboxKey) rather than a pid: the
 * veth is made inside that namespace with its peer created directly in the
 * namespace where ovs-vswitchd runs (the host end must live where the
 * userspace datapath can open it), so nothing passes through, or collides
 * in, the namespace the plugin was started in.
 *
 * As in veth.ts, checksum offload is off on both ends (the userspace
 * datapath never completes a partial checksum) and namespaces are entered
 * with nsenter --net, never `ip netns exec`.
 */
import { command, tryCommand } from './command.js';

export interface NetnsInterface {
  /** The end in the OVS namespace (at most 15 characters). */
  readonly hostName: string;
  /** Its name inside the container (CNI_IFNAME). */
  readonly ifName: string;
  readonly mac: string;
  /** `a.b.c.d/len`. */
  readonly address: string;
  readonly mtu?: number;
  /** Installed as the default route when given. */
  readonly gateway?: string;
}

/**
 * How `ip link ... netns X` names the namespace at `path`: its name for
 * /run/netns/NAME, a pid for /proc/PID/ns/net; undefined: this process's own.
 */
export function netnsTarget(path: string | undefined): string {
  if (path === undefined) return String(process.pid);
  const named = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(path);
  if (named !== null) return named[1]!;
  const proc = /^\/proc\/(\d+)\/ns\/net$/.exec(path);
  if (proc !== null) return proc[1]!;
  throw new Error(`cannot name the network namespace ${path} for ip(8): give /run/netns/NAME or /proc/PID/ns/net`);
}

/** argv prefix that runs a command in `netns` (none: here). */
function inNetns(netns: string | undefined): string[] {
  return netns === undefined ? [] : ['nsenter', `--net=${netns}`];
}

function run(netns: string | undefined, argv: readonly string[], input?: string): Promise<string> {
  const full = [...inNetns(netns), ...argv];
  return command(full[0]!, full.slice(1), input === undefined ? {} : { input });
}

/**
 * Creates the pair from inside `netns` with the host end in `hostNetns`,
 * checksum offload off on both ends and the host end up; the container end
 * is configured later by {@link configureNetnsInterface} (so the pair can be
 * made while its address is still being allocated). On failure the pair is
 * removed.
 */
export async function createNetnsVeth(netns: string, hostNetns: string | undefined, hostName: string, ifName: string): Promise<void> {
  // One process tree (a process costs a resident Node dearly): the pair made inside the container's
  // namespace, then the host end's offload and link state set from inside the OVS namespace.
  const ovsNs = hostNetns ?? `/proc/${process.pid}/ns/net`;
  const inOvs = `ethtool -K ${sq(hostName)} tx off >/dev/null && exec ip link set ${sq(hostName)} up`;
  const script = [
    `ip link add name ${sq(ifName)} type veth peer name ${sq(hostName)} netns ${sq(netnsTarget(hostNetns))}`,
    `ethtool -K ${sq(ifName)} tx off >/dev/null`,
    `exec nsenter --net=${sq(ovsNs)} sh -c ${sq(inOvs)}`,
  ].join(' && ');
  try {
    await run(netns, ['sh', '-c', script]);
  } catch (e) {
    await removeHostLink(hostNetns, hostName);
    throw e;
  }
}

/** `s` as one sh(1) word. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Configures the container end: MAC, MTU, address, up, `lo` up, the default route. */
export async function configureNetnsInterface(netns: string, i: Omit<NetnsInterface, 'hostName'>): Promise<void> {
  const batch = [
    `link set dev ${i.ifName} address ${i.mac}${i.mtu === undefined ? '' : ` mtu ${i.mtu}`}`,
    `addr add ${i.address} dev ${i.ifName}`,
    `link set dev ${i.ifName} up`,
    'link set dev lo up',
    ...(i.gateway === undefined ? [] : [`route replace default via ${i.gateway} dev ${i.ifName}`]),
  ];
  await run(netns, ['ip', '-batch', '-'], `${batch.join('\n')}\n`);
}

/** Deletes the host end (its peer goes with it); already gone is not an error. */
export async function removeHostLink(hostNetns: string | undefined, name: string): Promise<void> {
  const argv = [...inNetns(hostNetns), 'ip', 'link', 'delete', name];
  await tryCommand(argv[0]!, argv.slice(1));
}

/** True when the host end exists. */
export async function hostLinkExists(hostNetns: string | undefined, name: string): Promise<boolean> {
  const argv = [...inNetns(hostNetns), 'ip', 'link', 'show', 'dev', name];
  return (await tryCommand(argv[0]!, argv.slice(1))) !== undefined;
}

export interface LinkState {
  readonly mac: string;
  readonly up: boolean;
  /** `a.b.c.d/len` */
  readonly addresses: readonly string[];
}

/** The interface `ifName` inside `netns` (ip -j addr), or undefined when it is not there. */
export async function readNetnsLink(netns: string, ifName: string): Promise<LinkState | undefined> {
  const out = await tryCommand('nsenter', [`--net=${netns}`, 'ip', '-j', 'addr', 'show', 'dev', ifName]);
  if (out === undefined) return undefined;
  const [link] = JSON.parse(out) as Array<{
    address?: string;
    flags?: string[];
    addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
  }>;
  if (link === undefined) return undefined;
  return {
    mac: link.address ?? '',
    up: (link.flags ?? []).includes('UP'),
    addresses: (link.addr_info ?? []).filter((a) => a.family === 'inet' || a.family === 'inet6').map((a) => `${a.local}/${a.prefixlen}`),
  };
}
