/**
 * container-create and its undoing (CONTAINERS.md §2.2): a "network
 * container" holds a network namespace with one interface per endpoint
 * (eth1, eth2, ... as the 2015 tool named them), each the container end of a
 * veth whose host end is an OVS port — with the endpoint's iface-id on the
 * integration bridge (overlay), or a VLAN access port of the VM's bridge
 * (underlay). `lo` is up and the first endpoint's subnet gateway is the
 * default route.
 *
 * The endpoints are claimed (endpoint-usage, container-usage and each
 * `_veth`) in one verified transaction before anything is plugged, so two
 * container-creates cannot take the same endpoint, and a failure at any
 * step removes everything this run made.
 */
import { randomBytes } from 'node:crypto';
import { plugContainerInterface, removeLink } from '../host/veth.js';
import { formatPairs, hostVethName, KEY, parsePairs, peerVethName } from './keys.js';
import { endpointId } from './resolve.js';
import { setUp, ToolError, type Mode, type Session } from './settings.js';

/** The network container's main process: it only holds the namespace. */
const HOLD = ['sleep', '2147483647'];

interface Endpoint {
  readonly id: string;
  readonly mac: string;
  readonly address: string;
  readonly vlan?: number;
  readonly gateway?: string;
  readonly mtu?: number;
}

function localEndpoint(ids: ReadonlyMap<string, string>, arg: string, id: string): Endpoint {
  const mac = ids.get(KEY.mac(id));
  const address = ids.get(KEY.ip(id));
  if (mac === undefined || address === undefined) throw new ToolError(`endpoint ${arg} was not created on this host.`);
  const vlan = Number(ids.get(KEY.vlan(id)));
  const mtu = Number(ids.get(KEY.mtu(id)));
  const gateway = ids.get(KEY.gateway(id));
  return {
    id,
    mac,
    address,
    ...(Number.isInteger(vlan) && vlan > 0 ? { vlan } : {}),
    ...(Number.isInteger(mtu) && mtu > 0 ? { mtu } : {}),
    ...(gateway === undefined ? {} : { gateway }),
  };
}

function inUse(usage: ReadonlyMap<string, string>, arg: string, id: string): void {
  const c = usage.get(id);
  if (c !== undefined) throw new ToolError(`${arg} already part of container ${c}`);
}

export async function containerCreate(s: Session, eps: readonly string[]): Promise<void> {
  if (eps.length === 0) throw new ToolError('container-create: at least one --network=ENDPOINT is required');
  // OVNTS_TIMING=1: where the time goes, on stderr (for bench:containers): ms since the
  // process started (one-shot), or since the request came (agent).
  const t0 = s.since ?? 0;
  const mark = (what: string): void => {
    if (s.env['OVNTS_TIMING'] === '1') s.err(`timing: ${what} ${(performance.now() - t0).toFixed(0)} ms`);
  };
  mark('begin');
  const { mode, bridge, neutron } = await setUp(s);
  const ids: string[] = [];
  for (const arg of eps) ids.push(await endpointId(neutron, arg));
  if (new Set(ids).size !== ids.length) throw new ToolError('container-create: the same endpoint was given twice');
  // Refuse early, before a container is started (checked again when claiming).
  const before = s.db.bridgeIds(bridge) ?? new Map<string, string>();
  const endpoints = ids.map((id, i) => localEndpoint(before, eps[i]!, id));
  ids.forEach((id, i) => inUse(parsePairs(before.get(KEY.endpointUsage)), eps[i]!, id));

  mark('resolved');
  const runtime = await s.runtime();
  const cid = await runtime.runDetached(`network_${randomBytes(8).toString('hex').slice(0, 15)}`, HOLD);
  mark(`${runtime.name} started the network container`);
  let claimed = false;
  try {
    await s.db.editBridgeIds(bridge, (cur) => {
      const usage = parsePairs(cur.get(KEY.endpointUsage));
      const counts = parsePairs(cur.get(KEY.containerUsage));
      ids.forEach((id, i) => {
        localEndpoint(cur, eps[i]!, id);
        inUse(usage, eps[i]!, id);
        usage.set(id, cid);
      });
      counts.set(cid, String(ids.length));
      const set: Record<string, string> = { [KEY.endpointUsage]: formatPairs(usage), [KEY.containerUsage]: formatPairs(counts) };
      for (const id of ids) set[KEY.veth(id)] = hostVethName(id);
      return { edit: { set }, result: undefined };
    });
    claimed = true;
    mark('claimed');
    const pid = await runtime.pid(cid);
    mark('pid');
    let gatewaySet = false;
    for (const [k, ep] of endpoints.entries()) {
      const gateway: string | undefined = !gatewaySet && ep.gateway !== undefined ? ep.gateway : undefined;
      gatewaySet ||= gateway !== undefined;
      await plugContainerInterface(
        pid,
        {
          hostName: hostVethName(ep.id),
          peerName: peerVethName(ep.id),
          ifName: `eth${k + 1}`,
          mac: ep.mac,
          address: ep.address,
          ...(ep.mtu === undefined ? {} : { mtu: ep.mtu }),
          ...(gateway === undefined ? {} : { gateway }),
        },
        () => addOvsPort(s, mode, bridge, ep, cid),
      );
      mark(`plugged ${ep.id}`);
    }
  } catch (e) {
    if (claimed) for (const id of ids) await unplugEndpoint(s, bridge, id, false).catch(() => undefined);
    await runtime.remove(cid).catch(() => undefined);
    throw e;
  }
  s.out(cid);
}

/**
 * The host end as a port of the bridge, in one transaction on the tool's
 * OVSDB connection (no ovs-vsctl process). An underlay VLAN access port is
 * waited for until ovs-vswitchd has it; an overlay port is the controller's
 * to install, which needs ovs-vswitchd to have it first anyway.
 */
async function addOvsPort(s: Session, mode: Mode, bridge: string, ep: Endpoint, cid: string): Promise<void> {
  const name = hostVethName(ep.id);
  if (mode === 'underlay') {
    if (ep.vlan === undefined) throw new ToolError(`No vlans associated with the endpoint.`);
    await s.db.addPort({ bridge, name, tag: ep.vlan }, true);
    return;
  }
  await s.db.addPort({
    bridge,
    name,
    interfaceIds: { 'attached-mac': ep.mac, 'iface-id': ep.id, 'vm-id': cid, 'iface-status': 'active' },
  });
}

/**
 * Takes an endpoint out of its container: OVS port and veth removed, the
 * usage maps updated, and the network container removed with its last
 * endpoint (`removeContainer` false: the caller removes it). Safe to repeat.
 */
export async function unplugEndpoint(s: Session, bridge: string, id: string, removeContainer = true): Promise<void> {
  const ids = s.db.bridgeIds(bridge) ?? new Map<string, string>();
  const veth = ids.get(KEY.veth(id)) ?? hostVethName(id);
  await s.db.deletePort(bridge, veth, true);
  await removeLink(veth);
  const emptied = await s.db.editBridgeIds(bridge, (cur) => {
    const usage = parsePairs(cur.get(KEY.endpointUsage));
    const counts = parsePairs(cur.get(KEY.containerUsage));
    const cid = usage.get(id);
    const remove = cur.has(KEY.veth(id)) ? [KEY.veth(id)] : [];
    const set: Record<string, string> = {};
    let last: string | undefined;
    if (cid !== undefined) {
      usage.delete(id);
      const n = Number(counts.get(cid) ?? '1') - 1;
      if (n > 0) counts.set(cid, String(n));
      else {
        counts.delete(cid);
        last = cid;
      }
      for (const [key, m] of [
        [KEY.endpointUsage, usage],
        [KEY.containerUsage, counts],
      ] as const) {
        if (m.size === 0) remove.push(key);
        else set[key] = formatPairs(m);
      }
    }
    return { edit: { set, remove }, result: last };
  });
  if (emptied !== undefined && removeContainer) await (await s.runtime()).remove(emptied);
}
