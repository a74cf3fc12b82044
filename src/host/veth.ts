/**
 * A container's interface: a veth pair made in this (the host's) network
 * namespace, one end moved into the container's namespace (found by the pid
 * of its first process, entered with nsenter --net, never `ip netns exec`,
 * which remounts /sys and breaks the runtimes) and configured there, the
 * other left here for the caller to plug into Open vSwitch.
 *
 * Checksum offload is turned off on both ends: the userspace datapath reads
 * the host end with a packet socket and never completes a checksum the
 * kernel left partial, so TCP from the container would arrive corrupt.
 */
import { command, tryCommand } from './command.js';

export interface ContainerInterface {
  /** The end that stays on the host (at most 15 characters). */
  readonly hostName: string;
  /** The other end's temporary name, before it is renamed inside the container. */
  readonly peerName: string;
  /** Its name inside the container, e.g. eth1. */
  readonly ifName: string;
  readonly mac: string;
  /** `a.b.c.d/len`. */
  readonly address: string;
  readonly mtu?: number;
  /** Installed as the default route when given. */
  readonly gateway?: string;
}

/** The container's netns as nsenter(1) enters it. */
function nsenter(pid: number): string[] {
  return ['-t', String(pid), '-n'];
}

/**
 * Creates the pair and configures the container end: renamed, its MAC, MTU
 * and address set, up, `lo` up, and the default route via the gateway.
 * `withHostEnd` runs (e.g. plugs the host end into OVS) while the container
 * end is configured. On failure removes the pair (the container end goes with it).
 */
export async function plugContainerInterface(
  pid: number,
  i: ContainerInterface,
  withHostEnd: () => Promise<void> = async () => undefined,
): Promise<void> {
  await command('ip', ['link', 'add', 'name', i.hostName, 'type', 'veth', 'peer', 'name', i.peerName, 'netns', String(pid)]);
  try {
    const batch = [
      `link set dev ${i.peerName} name ${i.ifName}`,
      `link set dev ${i.ifName} address ${i.mac}${i.mtu === undefined ? '' : ` mtu ${i.mtu}`}`,
      `addr add ${i.address} dev ${i.ifName}`,
      `link set dev ${i.ifName} up`,
      'link set dev lo up',
      ...(i.gateway === undefined ? [] : [`route replace default via ${i.gateway} dev ${i.ifName}`]),
    ];
    const results = await Promise.allSettled([
      // Names as the shell's positional parameters, never inside its script.
      command('sh', ['-c', 'ethtool -K "$1" tx off >/dev/null && exec ip link set "$1" up', 'sh', i.hostName]),
      command('nsenter', [...nsenter(pid), 'sh', '-c', 'ethtool -K "$1" tx off >/dev/null && exec ip -batch -', 'sh', i.peerName], {
        input: `${batch.join('\n')}\n`,
      }),
      withHostEnd(),
    ]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  } catch (e) {
    await removeLink(i.hostName);
    throw e;
  }
}

/** `ip link delete NAME`; a link that is already gone is not an error. */
export async function removeLink(name: string): Promise<void> {
  await tryCommand('ip', ['link', 'delete', name]);
}

/** True when a link of that name exists in this namespace. */
export async function linkExists(name: string): Promise<boolean> {
  return (await tryCommand('ip', ['link', 'show', 'dev', name])) !== undefined;
}
