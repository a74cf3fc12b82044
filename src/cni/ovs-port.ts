/**
 * The OVS side of an attachment, over one OVSDB connection (the agent keeps
 * it open; a one-shot plugin opens it for the invocation): the host end of
 * the veth as a port of the bridge, marked with the attachment it belongs to
 * (`cni-network`, `cni-container-id`, `cni-ifname` in external_ids) so DEL and
 * GC find it, and in host mode the `iface-id` the controller binds. Waiting
 * for `ovn-installed` watches the monitor's updates (no polling).
 */
import { createHash } from 'node:crypto';
import type { OvsDb } from '../host/ovs-db.js';

export const IDS = { network: 'cni-network', container: 'cni-container-id', ifname: 'cni-ifname' } as const;

/** The host end's name: 15 characters, stable for (network, container, interface). */
export function hostVeth(network: string, containerId: string, ifname: string): string {
  return `ovc${createHash('sha1').update(`${network}\0${containerId}\0${ifname}`).digest('hex').slice(0, 12)}`;
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

/**
 * Adds the port (already there: left as is). In host mode the controller's
 * `ovn-installed` later says the datapath has it; a VLAN access port (nested
 * mode) is waited for until ovs-vswitchd has applied it.
 */
export async function addPort(db: OvsDb, p: PortSpec): Promise<void> {
  await db.addPort(
    {
      bridge: p.bridge,
      name: p.name,
      ...(p.tag === undefined ? {} : { tag: p.tag }),
      interfaceIds: {
        [IDS.network]: p.network,
        [IDS.container]: p.containerId,
        [IDS.ifname]: p.ifname,
        ...(p.mac === undefined ? {} : { 'attached-mac': p.mac }),
        ...(p.ifaceId === undefined ? {} : { 'iface-id': p.ifaceId, 'iface-status': 'active', 'vm-id': p.containerId }),
      },
    },
    p.tag !== undefined,
  );
}

/**
 * Records the attachment's MAC on the interface and, in host mode, the
 * Neutron port the controller binds it to (`iface-id`): from then on the
 * controller installs it.
 */
export async function bindPort(
  db: OvsDb,
  name: string,
  mac: string,
  host: { ifaceId: string; containerId: string } | undefined,
): Promise<void> {
  await db.editInterfaceIds(name, {
    set: {
      'attached-mac': mac,
      ...(host === undefined ? {} : { 'iface-id': host.ifaceId, 'iface-status': 'active', 'vm-id': host.containerId }),
    },
  });
}

/** Waits until the controller has installed the port's flows (`external_ids:ovn-installed`). */
export async function waitInstalled(db: OvsDb, name: string, timeoutMs: number): Promise<void> {
  try {
    await db.waitFor(() => db.interfaceIds(name)?.get('ovn-installed') === 'true', timeoutMs);
  } catch {
    throw new Error(
      `port ${name} was not installed by the OVN controller within ${timeoutMs} ms (is ovn-controller running and the port's network known?)`,
    );
  }
}

/** Removes the port (absent: nothing to do) once ovs-vswitchd has let go of it. */
export async function deletePort(db: OvsDb, bridge: string, name: string): Promise<void> {
  await db.deletePort(bridge, name, true);
}

export interface AttachedInterface {
  readonly name: string;
  readonly containerId: string;
  readonly ifname: string;
  readonly externalIds: ReadonlyMap<string, string>;
}

/** The interfaces of the CNI network `network` in this OVS. */
export function attachedInterfaces(db: OvsDb, network: string): AttachedInterface[] {
  return db.interfacesWith(IDS.network, network).map(({ name, ids }) => ({
    name,
    containerId: ids.get(IDS.container) ?? '',
    ifname: ids.get(IDS.ifname) ?? '',
    externalIds: ids,
  }));
}
