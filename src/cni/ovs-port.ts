/**
 * The OVS side of an attachment, through ovs-vsctl(8) (it returns once
 * ovs-vswitchd has applied the change; and the plugin is a short-lived
 * process, so one exec beats connecting an OVSDB client): the host end of the
 * veth as a port of the bridge, marked with the attachment it belongs to
 * (`cni-network`, `cni-container-id`, `cni-ifname` in external_ids) so DEL and
 * GC find it, and in host mode the `iface-id` the controller binds.
 */
import { createHash } from 'node:crypto';
import { command, CommandFailed } from '../host/command.js';

export const IDS = { network: 'cni-network', container: 'cni-container-id', ifname: 'cni-ifname' } as const;

/** The host end's name: 15 characters, stable for (network, container, interface). */
export function hostVeth(network: string, containerId: string, ifname: string): string {
  return `ovc${createHash('sha1').update(`${network}\0${containerId}\0${ifname}`).digest('hex').slice(0, 12)}`;
}

export function vsctl(db: string, args: readonly string[], timeoutS = 10): Promise<string> {
  return command('ovs-vsctl', [`--db=${db}`, `--timeout=${timeoutS}`, ...args], { timeoutMs: (timeoutS + 5) * 1000 });
}

export interface PortSpec {
  readonly bridge: string;
  readonly name: string;
  readonly network: string;
  readonly containerId: string;
  readonly ifname: string;
  readonly mac?: string;
  /** host mode: the Neutron port id the controller binds (or later, with {@link bindPort}). */
  readonly ifaceId?: string;
  /** nested mode: the access VLAN. */
  readonly tag?: number;
}

export async function addPort(db: string, p: PortSpec): Promise<void> {
  await vsctl(db, [
    '--may-exist',
    'add-port',
    p.bridge,
    p.name,
    ...(p.tag === undefined ? [] : [`tag=${p.tag}`]),
    '--',
    'set',
    'Interface',
    p.name,
    `external_ids:${IDS.network}=${p.network}`,
    `external_ids:${IDS.container}=${p.containerId}`,
    `external_ids:${IDS.ifname}=${p.ifname}`,
    ...(p.mac === undefined ? [] : [`external_ids:attached-mac=${p.mac}`]),
    ...(p.ifaceId === undefined
      ? []
      : [`external_ids:iface-id=${p.ifaceId}`, 'external_ids:iface-status=active', `external_ids:vm-id=${p.containerId}`]),
  ]);
}

/**
 * Records the attachment's MAC on the interface and, in host mode, the
 * Neutron port the controller binds it to (`iface-id`): from then on the
 * controller installs it.
 */
export async function bindPort(
  db: string,
  name: string,
  mac: string,
  host: { ifaceId: string; containerId: string } | undefined,
): Promise<void> {
  await vsctl(db, [
    'set',
    'Interface',
    name,
    `external_ids:attached-mac=${mac}`,
    ...(host === undefined
      ? []
      : [`external_ids:iface-id=${host.ifaceId}`, 'external_ids:iface-status=active', `external_ids:vm-id=${host.containerId}`]),
  ]);
}

/** Waits until the controller has installed the port's flows (`external_ids:ovn-installed`). */
export async function waitInstalled(db: string, name: string, timeoutMs: number): Promise<void> {
  try {
    await vsctl(db, ['wait-until', 'Interface', name, 'external_ids:ovn-installed=true'], Math.ceil(timeoutMs / 1000));
  } catch (e) {
    if (e instanceof CommandFailed)
      throw new Error(
        `port ${name} was not installed by the OVN controller within ${timeoutMs} ms (is ovn-controller running and the port's network known?)`,
      );
    throw e;
  }
}

export async function deletePort(db: string, bridge: string, name: string): Promise<void> {
  await vsctl(db, ['--if-exists', 'del-port', bridge, name]);
}

export interface AttachedInterface {
  readonly name: string;
  readonly containerId: string;
  readonly ifname: string;
  readonly externalIds: ReadonlyMap<string, string>;
}

/** The interfaces of the CNI network `network` in this OVS. */
export async function attachedInterfaces(db: string, network: string): Promise<AttachedInterface[]> {
  const out = await vsctl(db, [
    '--format=json',
    '--columns=name,external_ids',
    'find',
    'Interface',
    `external_ids:${IDS.network}=${network}`,
  ]);
  const table = JSON.parse(out) as { data: Array<[string, ['map', Array<[string, string]>]]> };
  return table.data.map(([name, [, pairs]]) => {
    const ids = new Map(pairs);
    return { name, containerId: ids.get(IDS.container) ?? '', ifname: ids.get(IDS.ifname) ?? '', externalIds: ids };
  });
}

/** The Interface's external_ids, or undefined when there is no such interface. */
export async function interfaceIds(db: string, name: string): Promise<Map<string, string> | undefined> {
  const out = await vsctl(db, ['--format=json', '--columns=external_ids', 'find', 'Interface', `name=${name}`]);
  const row = (JSON.parse(out) as { data: Array<[['map', Array<[string, string]>]]> }).data[0];
  return row === undefined ? undefined : new Map(row[0][1]);
}

/** The access VLAN of port `name`, or undefined (no such port, or untagged). */
export async function portTag(db: string, name: string): Promise<number | undefined> {
  const out = (await vsctl(db, ['--if-exists', 'get', 'Port', name, 'tag'])).trim();
  const n = Number(out);
  return out !== '' && out !== '[]' && Number.isInteger(n) ? n : undefined;
}
