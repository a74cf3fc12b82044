/**
 * The seed lab (seeds 000/002) as steps over any OVN deployment: the logical
 * network with the seed's ovn-nbctl commands (router `tenant1`, switch `dmz`,
 * DHCP options for 172.16.255.128/26, VM port `dmz-vm5`, container ports
 * `dmz-c51`/`dmz-c52` nested under it with tags 51/52), the chassis' Open
 * vSwitch configuration, and the VM side: bridge `br-vm5` patched to `br-int`
 * with `iface-id=dmz-vm5`, internal ports `vm5` (untagged), `c51` (tag 51) and
 * `c52` (tag 52), each moved into its own namespace.
 *
 * The steps take the tools they use (`nbctl`, `vsctl`, a `SeedHost`) as
 * arguments: `ovnts lab` passes ovnts nbctl and its own processes, the test
 * fixture passes the real ovn-nbctl and the test's tracked processes.
 */
import type { Ctl } from './ctl.js';
import { waitFor } from './exec.js';
import { addIntegrationBridge } from './ovs.js';

export const ROUTER_IP = '172.16.255.129';
export const ROUTER_MAC = '02:ac:10:ff:01:29';
export const SUBNET = '172.16.255.128/26';
/** The subnet's prefix length, as dhclient configures it. */
export const PREFIX_LEN = 26;

export type LabHostName = 'vm5' | 'c51' | 'c52';

export interface HostSpec {
  readonly name: LabHostName;
  readonly lsp: string;
  readonly mac: string;
  readonly ip: string;
  /** The VLAN tag of a container port; undefined for the VM itself. */
  readonly tag: number | undefined;
}

export const LAB_HOSTS: readonly HostSpec[] = [
  { name: 'vm5', lsp: 'dmz-vm5', mac: '02:ac:10:ff:01:32', ip: '172.16.255.132', tag: undefined },
  { name: 'c51', lsp: 'dmz-c51', mac: '02:ac:10:ff:01:33', ip: '172.16.255.133', tag: 51 },
  { name: 'c52', lsp: 'dmz-c52', mac: '02:ac:10:ff:01:34', ip: '172.16.255.134', tag: 52 },
];

/** The parent of the container ports and the logical objects the lab adds. */
const VM_PORT = 'dmz-vm5';
const SWITCH = 'dmz';
const ROUTER = 'tenant1';

/** Stands for the DHCP_Options row's UUID in SEED_NB_COMMANDS. */
export const DHCP_REF = '$dhcp';

/**
 * The logical network as ovn-nbctl command lines: the router and switch of the
 * seed posts before seed 000, then seed 000's ports. `DHCP_REF` stands for the
 * UUID of the DHCP_Options row the `dhcp-options-create` line makes.
 */
export const SEED_NB_COMMANDS: readonly (readonly string[])[] = [
  ['lr-add', ROUTER],
  ['lrp-add', ROUTER, 'tenant1-dmz', ROUTER_MAC, `${ROUTER_IP}/${PREFIX_LEN}`],
  ['ls-add', SWITCH],
  ['lsp-add', SWITCH, 'dmz-tenant1'],
  ['lsp-set-type', 'dmz-tenant1', 'router'],
  ['lsp-set-addresses', 'dmz-tenant1', 'router'],
  ['lsp-set-options', 'dmz-tenant1', 'router-port=tenant1-dmz'],
  ['dhcp-options-create', SUBNET],
  ['dhcp-options-set-options', DHCP_REF, 'lease_time=3600', `router=${ROUTER_IP}`, `server_id=${ROUTER_IP}`, `server_mac=${ROUTER_MAC}`],
  ...LAB_HOSTS.flatMap((h) => [
    ['lsp-add', SWITCH, h.lsp],
    ['lsp-set-addresses', h.lsp, `${h.mac} ${h.ip}`],
    ['lsp-set-port-security', h.lsp, `${h.mac} ${h.ip}`],
    ['lsp-set-dhcpv4-options', h.lsp, DHCP_REF],
    ...(h.tag === undefined
      ? []
      : [
          ['set', 'Logical_Switch_Port', h.lsp, `parent_name=${VM_PORT}`],
          ['set', 'Logical_Switch_Port', h.lsp, `tag=${h.tag}`],
        ]),
  ]),
];

/**
 * Runs SEED_NB_COMMANDS. Rejects (with nbctl's message) when any of it exists
 * already.
 */
export async function programNorthbound(nbctl: Ctl): Promise<void> {
  let dhcpUuid: string | undefined;
  for (const cmd of SEED_NB_COMMANDS) {
    if (cmd.includes(DHCP_REF)) {
      dhcpUuid ??= await dhcpOptionsUuid(nbctl);
      if (dhcpUuid === undefined) throw new Error(`DHCP_Options for ${SUBNET} not found after creating it`);
    }
    await nbctl(...cmd.map((a) => (a === DHCP_REF ? (dhcpUuid as string) : a)));
  }
}

async function dhcpOptionsUuid(nbctl: Ctl): Promise<string | undefined> {
  const uuid = (await nbctl('--bare', '--columns=_uuid', 'find', 'DHCP_Options', `cidr="${SUBNET}"`)).trim().split('\n')[0] ?? '';
  return /^[0-9a-f-]{36}$/.test(uuid) ? uuid : undefined;
}

/** Removes what `programNorthbound` added (from a database the lab does not own). */
export async function unprogramNorthbound(nbctl: Ctl): Promise<void> {
  await nbctl('--if-exists', 'ls-del', SWITCH);
  await nbctl('--if-exists', 'lr-del', ROUTER);
  const dhcpUuid = await dhcpOptionsUuid(nbctl);
  if (dhcpUuid !== undefined) await nbctl('dhcp-options-del', dhcpUuid);
}

/**
 * The chassis configuration ovn-controller(8) reads ("Configuration") from the
 * local Open_vSwitch row, and `br-int` on the userspace datapath with
 * fail-mode secure and no in-band control (the recipe in DESIGN.md).
 */
export async function configureChassis(vsctl: Ctl, c: { readonly systemId: string; readonly sbRemote: string }): Promise<void> {
  await vsctl(
    'set',
    'Open_vSwitch',
    '.',
    `external_ids:system-id=${c.systemId}`,
    `external_ids:ovn-remote=${c.sbRemote}`,
    'external_ids:ovn-encap-type=geneve',
    'external_ids:ovn-encap-ip=127.0.0.1',
    'external_ids:ovn-bridge=br-int',
    'external_ids:ovn-bridge-datapath-type=netdev',
  );
  await addIntegrationBridge(vsctl);
}

/** What the steps need from the machine besides OVS and OVN. */
export interface SeedHost {
  /** ip(8) with these arguments; rejects on failure. */
  ip(...args: string[]): Promise<string>;
  /** Creates a namespace whose deletion the caller's teardown owns. */
  createNetns(name: string): Promise<void>;
  /** Gets a DHCP lease on `iface` in `ns` and resolves to its `a.b.c.d/len`; the client is stopped with the run. */
  dhcp(ns: string, iface: string): Promise<string>;
  /** Pings `dest` from `ns`. */
  ping(ns: string, dest: string): Promise<{ readonly ok: boolean; readonly transmitted: number; readonly received: number }>;
}

/**
 * The VM side (seed 000's ovs-vsctl and ip lines, on the netdev datapath):
 * `br-vm5` patched to `br-int`, each host's internal port created on it,
 * given its MAC and moved from the chassis namespace `hvNetns` (where
 * ovs-vswitchd makes the tap) into the namespace `netnsOf(host)`.
 */
export async function plugHosts(host: SeedHost, vsctl: Ctl, hvNetns: string, netnsOf: (h: HostSpec) => string): Promise<void> {
  await vsctl('add-br', 'br-vm5', '--', 'set', 'Bridge', 'br-vm5', 'datapath_type=netdev');
  await vsctl('add-port', 'br-vm5', 'brvm5-brint', '--', 'set', 'Interface', 'brvm5-brint', 'type=patch', 'options:peer=brint-brvm5');
  await vsctl('add-port', 'br-int', 'brint-brvm5', '--', 'set', 'Interface', 'brint-brvm5', 'type=patch', 'options:peer=brvm5-brint');
  await vsctl('set', 'Interface', 'brint-brvm5', `external_ids:iface-id=${VM_PORT}`);
  for (const h of LAB_HOSTS) {
    const ns = netnsOf(h);
    await host.createNetns(ns);
    const tag = h.tag === undefined ? [] : [`tag=${h.tag}`];
    await vsctl('add-port', 'br-vm5', h.name, ...tag, '--', 'set', 'interface', h.name, 'type=internal');
    await waitFor(
      () =>
        host.ip('-n', hvNetns, 'link', 'show', h.name).then(
          () => true,
          () => false,
        ),
      { what: `tap ${h.name} in ${hvNetns}` },
    );
    await host.ip('-n', hvNetns, 'link', 'set', h.name, 'address', h.mac);
    await host.ip('-n', hvNetns, 'link', 'set', h.name, 'netns', ns);
    await host.ip('-n', ns, 'link', 'set', h.name, 'up');
  }
}

/**
 * Barriers before traffic: every lab port `up` in the NB, `ovn-installed` on
 * the VM's patch port, and `--wait=hv` (every chassis has caught up).
 */
export async function waitUntilWired(nbctl: Ctl, vsctl: Ctl, timeoutMs = 30000): Promise<void> {
  for (const h of LAB_HOSTS) {
    await waitFor(async () => (await nbctl('get', 'Logical_Switch_Port', h.lsp, 'up')).trim() === 'true', {
      what: `${h.lsp} up`,
      timeoutMs,
    });
  }
  await waitFor(
    async () => (await vsctl('--if-exists', 'get', 'Interface', 'brint-brvm5', 'external_ids:ovn-installed')).trim() === '"true"',
    {
      what: 'ovn-installed on brint-brvm5',
      timeoutMs,
    },
  );
  await nbctl('--wait=hv', 'sync');
}

export interface LabPing {
  /** What was pinged: `router`, another host's name, or `address` (an extra target). */
  readonly target: string;
  readonly dest: string;
  readonly ok: boolean;
  readonly transmitted: number;
  readonly received: number;
}

export interface LabHostResult {
  readonly name: LabHostName;
  readonly netns: string;
  readonly mac: string;
  /** The address the NB assigns this port (without prefix length). */
  readonly expectedAddress: string;
  /** The address dhclient configured, `a.b.c.d/len`; undefined without a lease. */
  readonly address: string | undefined;
  readonly dhcpError: string | undefined;
  readonly pings: readonly LabPing[];
}

export interface StepOptions {
  readonly netnsOf: (h: HostSpec) => string;
  /** More addresses every host pings after the router and the other hosts. */
  readonly extraTargets?: readonly string[];
  /** Called when all leases are in (or failed), before the pings. */
  readonly onLeases?: () => void;
}

/**
 * The traffic steps: every namespace asks for a lease, then (if it got one)
 * pings the router, each other host and the extra targets. Failures are
 * results, not errors.
 */
export async function runSteps(host: SeedHost, opts: StepOptions): Promise<LabHostResult[]> {
  const leases = await Promise.all(
    LAB_HOSTS.map((h) =>
      host.dhcp(opts.netnsOf(h), h.name).then(
        (address) => ({ address, error: undefined }),
        (e: unknown) => ({ address: undefined, error: (e as Error).message }),
      ),
    ),
  );
  opts.onLeases?.();
  return Promise.all(
    LAB_HOSTS.map(async (h, i): Promise<LabHostResult> => {
      const ns = opts.netnsOf(h);
      const lease = leases[i] as { address: string | undefined; error: string | undefined };
      const targets = [
        { target: 'router', dest: ROUTER_IP },
        ...LAB_HOSTS.flatMap((o, j) => (j === i ? [] : [{ target: o.name, dest: leases[j]?.address?.split('/')[0] ?? o.ip }])),
        ...(opts.extraTargets ?? []).map((dest) => ({ target: 'address', dest })),
      ];
      const pings: LabPing[] = [];
      if (lease.address !== undefined) {
        for (const t of targets) pings.push({ ...t, ...(await host.ping(ns, t.dest)) });
      }
      return { name: h.name, netns: ns, mac: h.mac, expectedAddress: h.ip, address: lease.address, dhcpError: lease.error, pings };
    }),
  );
}

/**
 * One PASS/FAIL line per step: a host's lease must be its NB address, a ping
 * must get a reply. `failed` counts the FAIL lines.
 */
export function reportSteps(hosts: readonly LabHostResult[]): { readonly lines: string[]; readonly failed: number } {
  const lines: string[] = [];
  let failed = 0;
  const line = (ok: boolean, text: string): void => {
    if (!ok) failed++;
    lines.push(`${ok ? 'PASS' : 'FAIL'} ${text}`);
  };
  for (const h of hosts) {
    line(
      h.address === `${h.expectedAddress}/${PREFIX_LEN}`,
      `dhcp ${h.name}: ${h.address ?? 'no lease'}${h.dhcpError === undefined ? '' : ` (${h.dhcpError})`}`,
    );
    for (const p of h.pings) line(p.ok, `ping ${h.name} -> ${p.target} ${p.dest}: ${p.received}/${p.transmitted} replies`);
  }
  return { lines, failed };
}
