/**
 * The per-endpoint state on the bridge's external_ids (CONTAINERS.md §2.1),
 * keyed by the Neutron port UUID as the 2015 tool keyed it, plus `_gw` and
 * `_mtu` (the subnet's gateway and the network's MTU, read once at
 * endpoint-create so container-create needs no IPAM round trip).
 */
export const KEY = {
  mac: (ep: string) => `${ep}_ma`,
  ip: (ep: string) => `${ep}_ip`,
  vlan: (ep: string) => `${ep}_vlan`,
  veth: (ep: string) => `${ep}_veth`,
  gateway: (ep: string) => `${ep}_gw`,
  mtu: (ep: string) => `${ep}_mtu`,
  endpointUsage: 'endpoint-usage',
  containerUsage: 'container-usage',
} as const;

/** Every key an endpoint may own (removed by endpoint-delete). */
export function endpointKeys(ep: string): string[] {
  return [KEY.mac(ep), KEY.ip(ep), KEY.vlan(ep), KEY.veth(ep), KEY.gateway(ep), KEY.mtu(ep)];
}

/** `a:b,c:d` → Map (the format of endpoint-usage and container-usage). */
export function parsePairs(s: string | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const item of (s ?? '').split(',')) {
    const i = item.indexOf(':');
    if (i > 0) m.set(item.slice(0, i), item.slice(i + 1));
  }
  return m;
}

export function formatPairs(m: ReadonlyMap<string, string>): string {
  return [...m].map(([k, v]) => `${k}:${v}`).join(',');
}

/** The host end of an endpoint's veth, as the 2015 tool named it (15 characters). */
export function hostVethName(ep: string): string {
  return `${ep.slice(0, 13)}_l`;
}

/** The container end, until it is renamed eth<k> inside the container. */
export function peerVethName(ep: string): string {
  return `${ep.slice(0, 13)}_c`;
}
