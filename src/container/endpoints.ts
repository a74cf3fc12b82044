/**
 * endpoint-create, endpoint-list and endpoint-delete (CONTAINERS.md §2.2).
 *
 * endpoint-create: in underlay mode the VLAN is reserved first, in one
 * verified OVSDB transaction (so concurrent creates on one VM never share a
 * tag), and given back if the port cannot be made. endpoint-delete can be
 * repeated: it first unplugs what is local (veth, OVS port, the network
 * container once no endpoint uses it), then deletes the Neutron port (gone
 * already is fine), and only then gives back the VLAN and the keys — so a
 * failed Neutron call leaves what a second run needs, and a tag still held
 * by a Neutron port is never handed out again. A refused port (a user
 * without the admin role may not set binding:profile) gives its tag back
 * and says so.
 */
import { NeutronError } from '../host/neutron.js';
import { releaseVlan, reserveVlan } from '../host/vlan-pool.js';
import { endpointKeys, KEY } from './keys.js';
import { unplugEndpoint } from './plug.js';
import { endpointId, networkId } from './resolve.js';
import { setUp, ToolError, type Session } from './settings.js';
import { formatTable } from './table.js';

export async function endpointCreate(s: Session, net: string, name: string | undefined): Promise<void> {
  const { mode, bridge, neutron, vifId } = await setUp(s);
  const netId = await networkId(neutron, net);
  const network = await neutron.getNetwork(netId);
  const subnetId = network.subnets[0];
  if (subnetId === undefined) throw new ToolError('Could not obtain network information.');
  const subnet = await neutron.getSubnet(subnetId);
  const prefix = subnet.cidr.split('/')[1] ?? '32';
  const vlan = mode === 'underlay' ? await s.db.editBridgeIds(bridge, reserveVlan) : undefined;
  s.out('creating neutron port.');
  let port;
  try {
    port = await neutron.createPort({
      network_id: netId,
      ...(name === undefined ? {} : { name }),
      ...(vlan === undefined ? {} : { 'binding:profile': { parent_name: vifId, tag: vlan } }),
    });
  } catch (e) {
    if (vlan !== undefined) await s.db.editBridgeIds(bridge, (ids) => releaseVlan(ids, vlan));
    if (vlan !== undefined && e instanceof NeutronError && e.status === 403) throw policyRefusal(s, e);
    throw e;
  }
  const ip = port.fixed_ips[0]?.ip_address;
  const set: Record<string, string> = { [KEY.mac(port.id)]: port.mac_address, [KEY.ip(port.id)]: `${ip ?? ''}/${prefix}` };
  if (vlan !== undefined) set[KEY.vlan(port.id)] = String(vlan);
  if (subnet.gateway_ip !== null && subnet.gateway_ip !== '') set[KEY.gateway(port.id)] = subnet.gateway_ip;
  if (network.mtu !== undefined) set[KEY.mtu(port.id)] = String(network.mtu);
  await s.db.editBridgeIds(bridge, () => ({ edit: { set }, result: undefined }));
  s.out(port.id);
}

/**
 * Neutron's default policy lets only the admin role set binding:profile
 * (create_port:binding:profile; networking-ovn's container doc said the
 * same). Nothing else is tried then: making the VM's port a trunk parent
 * instead would create objects the cloud's operator did not ask for. The
 * refusal keeps the tool's words and says what is missing.
 */
function policyRefusal(s: Session, e: NeutronError): ToolError {
  return new ToolError(
    `Failed in neutron api call. \n (${e.message})\n` +
      `binding:profile {parent_name, tag} needs the admin role; user ${s.env['OS_USERNAME'] ?? '?'} lacks it in this project ` +
      "(Neutron's create_port:binding:profile policy)",
  );
}

export async function endpointList(s: Session): Promise<void> {
  const { neutron } = await setUp(s);
  const ports = await neutron.listPorts();
  const rows = ports.map((p) => [
    p.id,
    p.name,
    p.mac_address,
    p.fixed_ips.map((f) => `{"subnet_id": ${JSON.stringify(f.subnet_id)}, "ip_address": ${JSON.stringify(f.ip_address)}}`).join('\n'),
  ]);
  const text = formatTable(['id', 'name', 'mac_address', 'fixed_ips'], rows);
  if (text !== '') s.out(text.trimEnd());
}

export async function endpointDelete(s: Session, ep: string): Promise<void> {
  const { bridge, neutron } = await setUp(s);
  const id = await endpointId(neutron, ep);
  await unplugEndpoint(s, bridge, id);
  try {
    await neutron.deletePort(id);
    s.out('deleted neutron port');
  } catch (e) {
    if (!(e instanceof NeutronError && e.status === 404)) throw new ToolError(`Failed to delete endpoint.\n(${(e as Error).message})`);
  }
  await s.db.editBridgeIds(bridge, (ids) => {
    const vlan = Number(ids.get(KEY.vlan(id)));
    const keys = endpointKeys(id).filter((k) => ids.has(k));
    return Number.isInteger(vlan) && vlan > 0 ? releaseVlan(ids, vlan, keys) : { edit: { remove: keys }, result: undefined };
  });
}
