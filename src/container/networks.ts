/**
 * net-create, net-list and net-delete (CONTAINERS.md §2.2): a Neutron
 * network with one IPv4 subnet. The CIDR is checked before anything is
 * created, and a failed subnet takes its network with it.
 */
import { NeutronError } from '../host/neutron.js';
import { networkId } from './resolve.js';
import { setUp, ToolError, type Session } from './settings.js';
import { formatTable } from './table.js';

/** An IPv4 CIDR as netaddr.IPNetwork accepts it for a subnet (a.b.c.d/len; a bare address is a /32). */
export function parseCidr(s: string): { network: string; prefix: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(s.trim());
  if (m === null) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  const prefix = m[5] === undefined ? 32 : Number(m[5]);
  if (prefix > 32) return undefined;
  return { network: octets.join('.'), prefix };
}

export async function netCreate(s: Session, name: string, cidr: string): Promise<void> {
  const { neutron } = await setUp(s);
  if (parseCidr(cidr) === undefined) throw new ToolError('Invalid subnet specified.');
  s.out('creating neutron network');
  const net = await neutron.createNetwork(name);
  try {
    s.out('creating neutron subnetwork');
    await neutron.createSubnet(net.id, name, cidr.trim());
  } catch (e) {
    await neutron.deleteNetwork(net.id).catch(() => undefined);
    throw e;
  }
  s.out(net.id);
}

export async function netList(s: Session): Promise<void> {
  const { neutron } = await setUp(s);
  const [nets, subnets] = await Promise.all([neutron.listNetworks(), neutron.listSubnets()]);
  const cidr = new Map(subnets.map((x) => [x.id, x.cidr]));
  const rows = nets.map((n) => [n.id, n.name, n.subnets.map((id) => `${id} ${cidr.get(id) ?? ''}`.trimEnd()).join('\n')]);
  const text = formatTable(['id', 'name', 'subnets'], rows);
  if (text !== '') s.out(text.trimEnd());
}

export async function netDelete(s: Session, net: string): Promise<void> {
  const { neutron } = await setUp(s);
  const id = await networkId(neutron, net);
  s.out('deleting neutron network');
  try {
    await neutron.deleteNetwork(id);
  } catch (e) {
    if (e instanceof NeutronError && e.status === 409) throw new ToolError(`Failed to delete network.\n(${e.message})`);
    throw e;
  }
}
