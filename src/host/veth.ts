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

/**
 * Creates the pair and configures the container end: renamed, its MAC, MTU
 * and address set, up, `lo` up, and the default route via the gateway.
 * `withHostEnd` runs (e.g. plugs the host end into OVS) as soon as the pair
 * exists, while both ends are configured. All of it is one process tree (a
 * process started from a resident Node costs tens of ms under load; from
 * sh, a few): the script says `created` once the pair is there. On failure
 * removes the pair (the container end goes with it).
 *
 * The host end is made up (`ip link add ... up`), never set up later: when
 * ovs-vswitchd adds a port it sets IFF_PROMISC by writing back the flags it
 * read when it opened the device, so an `ip link set up` that lands between
 * the two is undone and the port stays down for good (bench:containers saw
 * one container in 16-50 never answer, with either central stack).
 */
export async function plugContainerInterface(
  pid: number,
  i: ContainerInterface,
  withHostEnd: () => Promise<void> = async () => undefined,
): Promise<void> {
  const batch = [
    `link set dev ${i.peerName} name ${i.ifName}`,
    `link set dev ${i.ifName} address ${i.mac}${i.mtu === undefined ? '' : ` mtu ${i.mtu}`}`,
    `addr add ${i.address} dev ${i.ifName}`,
    `link set dev ${i.ifName} up`,
    'link set dev lo up',
    ...(i.gateway === undefined ? [] : [`route replace default via ${i.gateway} dev ${i.ifName}`]),
  ];
  // Names and the pid as the shell's positional parameters, never inside its script; the
  // container end's batch on stdin (ip -batch - inherits it through nsenter).
  const script = [
    'ip link add name "$1" up type veth peer name "$2" netns "$3"',
    'echo created',
    'ethtool -K "$1" tx off >/dev/null',
    'exec nsenter -t "$3" -n sh -c \'ethtool -K "$1" tx off >/dev/null && exec ip -batch -\' sh "$2"',
  ].join(' && ');
  let said = '';
  let hostEnd: Promise<void> | undefined;
  const [made] = await Promise.allSettled([
    command('sh', ['-c', script, 'sh', i.hostName, i.peerName, String(pid)], {
      input: `${batch.join('\n')}\n`,
      onStdout: (text) => {
        said += text;
        if (hostEnd === undefined && said.includes('created')) hostEnd = withHostEnd();
      },
    }),
  ]);
  const [plugged] = await Promise.allSettled([hostEnd ?? Promise.resolve()]);
  try {
    for (const r of [made, plugged]) if (r.status === 'rejected') throw r.reason;
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
