/**
 * Nested mode (CONTAINERS.md §2.3, §4): the plugin runs inside a VM whose
 * own OVS bridge carries the VM's Neutron port to the hypervisor. Each
 * attachment takes a VLAN from the VM's pool (the bridge's
 * `external_ids:vlans`, reserved in one verified OVSDB transaction so
 * concurrent ADDs never share one), its Neutron port is a child of the VM's
 * port (`binding:profile {parent_name, tag}`), and the veth is an access
 * port of that VLAN on the VM's bridge. The VM cannot see the hypervisor's
 * OVS, so "installed" is the IPAM's word: the port ACTIVE (its LSP up).
 */
import type { NeutronClient } from '../host/neutron.js';
import type { OvsDb } from '../host/ovs-db.js';
import { CNI_CODE, CniError } from './errors.js';
import { ipamCall } from './ipam.js';

export async function reserveTag(db: OvsDb, bridge: string): Promise<number> {
  const { reserveVlan } = await import('../host/vlan-pool.js');
  try {
    return await db.editBridgeIds(bridge, reserveVlan);
  } catch (e) {
    throw new CniError(CNI_CODE.INTERFACE_FAILURE, `cannot reserve a VLAN on ${bridge}: ${(e as Error).message}`);
  }
}

export async function releaseTag(db: OvsDb, bridge: string, vlan: number): Promise<void> {
  const { releaseVlan } = await import('../host/vlan-pool.js');
  await db.editBridgeIds(bridge, (ids) => releaseVlan(ids, vlan));
}

/** Waits until the IPAM reports the port ACTIVE (OVN set its LSP up). */
export async function waitActive(c: NeutronClient, portId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const p = await ipamCall(() => c.getPort(portId));
    if (p.status === 'ACTIVE') return;
    if (Date.now() > deadline)
      throw new Error(`port ${portId} did not become ACTIVE within ${timeoutMs} ms (is the VM's port bound on its hypervisor?)`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** The VLAN a nested port was given (its binding:profile tag). */
export function tagOf(profile: Record<string, unknown> | undefined): number | undefined {
  const t = profile?.['tag'];
  return typeof t === 'number' && Number.isInteger(t) ? t : undefined;
}
