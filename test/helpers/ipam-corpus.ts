/**
 * The command corpus of the Neutron differential test: the real `openstack`
 * and legacy `neutron` CLIs, valid and invalid, over every resource `ovnts
 * ipam` serves, run step by step against one server (real Neutron or ovnts)
 * with each step's output normalised (see ipam-normalize.ts); and a snapshot
 * of the NB rows the server wrote, normalised the same way.
 *
 * An argument `@port:vm1` (or `@net:`, `@subnet:` …) is the id the server gave
 * the resource named vm1; seed 003's command needs the VM port's uuid.
 */
import { Normalizer } from './ipam-normalize.js';
import type { NeutronHandle } from './neutron-server.js';
import { run, runOk } from './proc.js';

export interface CliStep {
  readonly cli: 'openstack' | 'neutron';
  readonly args: readonly string[];
  /** The ports this step creates get addresses picked at random (no ip-address given). */
  readonly randomIp?: boolean;
}

export interface Checkpoint {
  /** Compare the NB here. */
  readonly checkpoint: string;
}

export type Step = CliStep | Checkpoint;

const os = (...args: string[]): CliStep => ({ cli: 'openstack', args });
const osRandom = (...args: string[]): CliStep => ({ cli: 'openstack', args, randomIp: true });
const neutron = (...args: string[]): CliStep => ({ cli: 'neutron', args });

/** The corpus, in order; it leaves nothing behind but what the last checkpoint shows. */
export const CORPUS: readonly Step[] = [
  // --- networks
  os('network', 'create', 'private', '-f', 'json'),
  os('network', 'create', '--description', 'd2', '--mtu', '1400', 'net2'),
  os('network', 'create', '--mtu', '9000', 'netbig'), // 400: above the geneve MTU (1442)
  neutron('net-create', 'n3'),
  os('network', 'list'),
  os('network', 'list', '-f', 'json'),
  os('network', 'show', 'private', '-f', 'json'),
  os('network', 'show', 'nosuchnet'),
  os('network', 'set', '--description', 'changed', 'net2'),
  os('network', 'show', 'net2'),
  // --- subnets
  os(
    'subnet',
    'create',
    '--network',
    'private',
    '--subnet-range',
    '192.168.1.0/24',
    '--gateway',
    '192.168.1.1',
    '--allocation-pool',
    'start=192.168.1.10,end=192.168.1.100',
    '--dns-nameserver',
    '192.0.2.53',
    '--dhcp',
    'sub1',
    '-f',
    'json',
  ),
  os('subnet', 'create', '--network', 'net2', '--subnet-range', '10.0.5.0/24', '--gateway', 'none', '--no-dhcp', 'sub2'),
  os('subnet', 'create', '--network', 'net2', '--subnet-range', '10.0.6.0/24', 'sub3'),
  os('subnet', 'create', '--network', 'net2', '--subnet-range', '10.0.6.128/25', 'sub-overlap'), // 400 overlap
  os(
    'subnet',
    'create',
    '--network',
    'net2',
    '--subnet-range',
    '10.0.7.0/24',
    '--gateway',
    '10.0.7.50',
    '--allocation-pool',
    'start=10.0.7.10,end=10.0.7.100',
    'sub-gw-in-pool',
  ), // 409 GatewayConflictWithAllocationPools
  os(
    'subnet',
    'create',
    '--network',
    'net2',
    '--subnet-range',
    '10.0.8.0/24',
    '--allocation-pool',
    'start=10.0.9.10,end=10.0.9.20',
    'sub-pool-out',
  ), // 400
  os('subnet', 'create', '--network', 'private', '--ip-version', '6', '--subnet-range', 'fd00:5::/64', 'sub6', '-f', 'json'),
  neutron(
    'subnet-create',
    '--name',
    's3',
    '--gateway',
    '10.9.0.1',
    '--allocation-pool',
    'start=10.9.0.10,end=10.9.0.20',
    '--disable-dhcp',
    'n3',
    '10.9.0.0/24',
  ),
  os('subnet', 'list'),
  os('subnet', 'list', '--network', 'private'),
  os('subnet', 'show', 'sub1'),
  os('subnet', 'show', 'nosuchsubnet'),
  neutron('subnet-list'),
  neutron('net-list'),
  // --- ports
  // Requested addresses lie outside sub1's pool (.10-.100): a port given one at random
  // earlier (vm1, c-json, ...) must never hold it already, on either server.
  osRandom('port', 'create', '--network', 'private', 'vm1', '-f', 'json'),
  os(
    'port',
    'create',
    '--network',
    'private',
    '--fixed-ip',
    'subnet=sub1,ip-address=192.168.1.150',
    '--mac-address',
    '0a:00:00:00:00:01',
    '--device',
    'ctr1',
    '--device-owner',
    'compute:container',
    'p-fixed',
  ),
  os('port', 'create', '--network', 'private', '--fixed-ip', 'subnet=sub1,ip-address=192.168.1.150', 'dup-ip'), // 409
  os('port', 'create', '--network', 'private', '--mac-address', '0a:00:00:00:00:01', 'dup-mac'), // 409
  os('port', 'create', '--network', 'private', '--fixed-ip', 'ip-address=10.0.0.5', 'bad-ip'), // 400 InvalidIpForNetwork
  osRandom('port', 'create', '--network', 'private', '--disable-port-security', 'p-nosec'),
  osRandom(
    'port',
    'create',
    '--network',
    'private',
    '--allowed-address',
    'ip-address=192.168.1.200,mac-address=0a:00:00:00:00:02',
    'p-aap',
  ),
  os('port', 'create', '--network', 'private', '--no-fixed-ip', 'p-nofip', '-f', 'json'),
  osRandom('port', 'create', '--network', 'private', '--disable', 'p-down'),
  // Tag 41, not 42: seed 003's command below uses 42 on the same parent, and
  // ovnts refuses a tag another child of that parent holds (real Neutron does not check).
  osRandom('port', 'create', '--network', 'private', '--binding-profile', '{"parent_name":"@port:vm1","tag":41}', 'c-json', '-f', 'json'),
  os('port', 'create', '--network', 'private', '--binding-profile', 'parent_name=@port:vm1', '--binding-profile', 'tag=43', 'c-kv'), // 400 string tag
  os('port', 'create', '--network', 'private', '--binding-profile', '{"parent_name":"nosuchport","tag":44}', 'c-noparent'), // 404
  os('port', 'create', '--network', 'private', '--binding-profile', '{"parent_name":"@port:vm1","tag":4096}', 'c-4096'), // 400
  os('port', 'create', '--network', 'private', '--binding-profile', '{"parent_name":"@port:vm1"}', 'c-notag'), // 400
  // Seed 003, verbatim (with the VM port's uuid).
  { cli: 'neutron', args: ['port-create', '--binding-profile', '{"parent_name":"@port:vm1","tag":42}', 'private'], randomIp: true },
  neutron(
    'port-create',
    '--name',
    'p-neu',
    '--device-id',
    'ctr9',
    '--device-owner',
    'compute:container',
    '--mac-address',
    '0a:00:00:00:00:09',
    '--fixed-ip',
    'ip_address=192.168.1.177',
    'private',
  ),
  os('port', 'list'),
  os('port', 'list', '-f', 'json'),
  os('port', 'list', '--network', 'private', '--device-id', 'ctr1'),
  os('port', 'list', '--device-owner', 'compute:container', '--long'),
  os('port', 'show', 'c-json', '-f', 'json'),
  os('port', 'show', 'p-fixed'),
  os('port', 'show', 'nosuchport'),
  neutron('port-list'),
  neutron('port-show', 'p-neu'),
  os('port', 'set', '--binding-profile', '{"tag":44}', 'c-json'),
  os('port', 'unset', '--binding-profile', 'tag', 'c-json'), // 400: both keys are required
  os('port', 'set', '--description', 'hello', 'p-fixed'),
  os('port', 'show', 'c-json'),
  // --- trunks
  osRandom('port', 'create', '--network', 'private', 'trunk-parent'),
  osRandom('port', 'create', '--network', 'private', 'sp1'),
  osRandom('port', 'create', '--network', 'private', 'sp2'),
  osRandom('port', 'create', '--network', 'private', 'sp3'),
  os(
    'network',
    'trunk',
    'create',
    '--parent-port',
    'trunk-parent',
    '--subport',
    'port=sp1,segmentation-type=vlan,segmentation-id=100',
    'trunk1',
  ),
  os('network', 'trunk', 'set', '--subport', 'port=sp2,segmentation-type=vlan,segmentation-id=100', 'trunk1'), // 409 DuplicateSubPort
  os('network', 'trunk', 'set', '--subport', 'port=sp2,segmentation-type=vlan,segmentation-id=101', 'trunk1'),
  os('network', 'trunk', 'set', '--subport', 'port=sp3,segmentation-type=vlan,segmentation-id=4095', 'trunk1'), // 400: 1..4094
  os('network', 'subport', 'list', '--trunk', 'trunk1'),
  os('network', 'trunk', 'show', 'trunk1'),
  os('network', 'trunk', 'list'),
  os('port', 'show', 'sp1', '-f', 'json'),
  os('network', 'trunk', 'create', '--parent-port', 'sp1', 'trunk2'), // 409: sp1 is a subport
  os('port', 'delete', 'trunk-parent'), // 409 PortInUseAsTrunkParent
  // --- routers
  os('router', 'create', 'r1', '-f', 'json'),
  os('router', 'add', 'subnet', 'r1', 'sub1'),
  os('port', 'create', '--network', 'net2', '--fixed-ip', 'subnet=sub3,ip-address=10.0.6.5', 'rport'),
  os('router', 'add', 'port', 'r1', 'rport'),
  os('router', 'add', 'subnet', 'r1', 'sub1'), // 400: already an interface
  os('router', 'show', 'r1', '-f', 'json'),
  os('router', 'list'),
  os('subnet', 'delete', 'sub1'), // 409 SubnetInUse
  os('router', 'delete', 'r1'), // 409 RouterInUse
  os('network', 'delete', 'private'), // 409 NetworkInUse
  { checkpoint: 'everything created' },
  // --- taking it apart
  os('network', 'trunk', 'unset', '--subport', 'sp2', 'trunk1'),
  os('port', 'show', 'sp2', '-f', 'json'),
  os('router', 'remove', 'port', 'r1', 'rport'), // deletes rport, an interface port now
  os('router', 'remove', 'subnet', 'r1', 'sub1'),
  os('router', 'delete', 'r1'),
  os('router', 'show', 'r1'),
  os('network', 'trunk', 'delete', 'trunk1'),
  os('port', 'delete', 'p-fixed', 'p-nosec'),
  neutron('port-delete', 'p-neu'),
  os('port', 'delete', 'nosuchport'),
  os('subnet', 'delete', 'sub2'),
  neutron('subnet-delete', 's3'),
  neutron('net-delete', 'n3'),
  os('port', 'show', 'rport'),
  os('network', 'delete', 'net2'),
  os('port', 'list'),
  { checkpoint: 'after the deletes' },
];

export interface StepResult {
  readonly command: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CheckpointResult {
  readonly checkpoint: string;
  readonly nb: Record<string, unknown[]>;
}

export type Transcript = (StepResult | CheckpointResult)[];

const RESOURCES = [
  ['networks', 'net'],
  ['subnets', 'subnet'],
  ['ports', 'port'],
  ['trunks', 'trunk'],
  ['routers', 'router'],
  ['security-groups', 'sg'],
] as const;

interface Resource {
  readonly id: string;
  readonly name?: string;
  readonly mac_address?: string;
  readonly fixed_ips?: readonly { ip_address: string }[];
}

/** Lists one collection straight over HTTP (not through a CLI): the runner's own bookkeeping. */
async function list(server: NeutronHandle, collection: string): Promise<Resource[]> {
  const res = await fetch(`${server.url}/v2.0/${collection}`, { headers: { 'X-Auth-Token': 'notused' } });
  if (res.status !== 200) return [];
  return ((await res.json()) as Record<string, Resource[]>)[collection] ?? [];
}

/** Names every resource the server has that the normaliser does not know yet. */
async function discover(server: NeutronHandle, norm: Normalizer, randomIp: boolean): Promise<void> {
  for (const [collection, kind] of RESOURCES) {
    for (const r of await list(server, collection)) {
      if (norm.known(r.id)) continue;
      const placeholder = norm.name(r.id, r.name ? `<${kind}:${r.name}>` : norm.next(kind));
      const inner = placeholder.slice(1, -1);
      if (r.mac_address?.startsWith('fa:16:3e:')) norm.name(r.mac_address, `<mac:${inner}>`);
      if (randomIp) (r.fixed_ips ?? []).forEach((ip, i) => norm.name(ip.ip_address, `<ip:${inner}:${i}>`));
    }
  }
}

/** Runs one CLI command against the server. */
async function runCli(server: NeutronHandle, step: CliStep, norm: Normalizer): Promise<StepResult> {
  const args = step.args.map((a) =>
    a.replace(/@(\w+):([\w-]+)/g, (m, kind: string, name: string) => norm.literal(`<${kind}:${name}>`) ?? m),
  );
  const env: Record<string, string> = { OS_AUTH_TYPE: 'none', OS_ENDPOINT: server.url };
  const argv = step.cli === 'openstack' ? ['--os-auth-type', 'none', '--os-endpoint', server.url, ...args] : args;
  for (let attempt = 1; ; attempt++) {
    const r = await run(step.cli, argv, { env: step.cli === 'neutron' ? env : {}, timeoutMs: 120000 });
    // Real Neutron on sqlite: workers contend for the database lock and a write
    // now and then fails with a 500 that ML2 rolls back (RECIPES.md); retrying is safe.
    const internal = /\b500\b|Internal Server Error|internal server error/.test(r.stderr);
    if (server.kind === 'real' && r.code !== 0 && internal && attempt < 4) continue;
    return { command: `${step.cli} ${step.args.join(' ')}`, code: r.code, stdout: r.stdout, stderr: r.stderr };
  }
}

/** Runs the corpus on one server; outputs and NB snapshots come back normalised. */
export async function runCorpus(server: NeutronHandle, corpus: readonly Step[] = CORPUS): Promise<Transcript> {
  const norm = new Normalizer(server.port, ['fake_project_id', 'admin']);
  const out: Transcript = [];
  for (const step of corpus) {
    if ('checkpoint' in step) {
      out.push({ checkpoint: step.checkpoint, nb: await snapshotNb(server, norm) });
      continue;
    }
    const r = await runCli(server, step, norm);
    await discover(server, norm, step.randomIp === true);
    out.push({ command: r.command, code: r.code, stdout: norm.output(r.stdout), stderr: norm.output(r.stderr) });
  }
  return out;
}

// --- the NB each server leaves

type Atom = string | number | boolean;
type OvsdbValue = Atom | ['uuid', string] | ['set', unknown[]] | ['map', [unknown, unknown][]];

/** ovn-nbctl's JSON cell → plain JSON (sets as sorted arrays, maps as objects, refs as `@uuid`). */
function plain(v: OvsdbValue): unknown {
  if (!Array.isArray(v)) return v;
  if (v[0] === 'uuid') return `@${v[1]}`;
  if (v[0] === 'set') return (v[1] as OvsdbValue[]).map(plain);
  const o: Record<string, unknown> = {};
  for (const [k, x] of v[1] as [OvsdbValue, OvsdbValue][]) o[String(plain(k))] = plain(x);
  return o;
}

async function nbList(server: NeutronHandle, table: string, columns: readonly string[]): Promise<Record<string, unknown>[]> {
  const out = await runOk(
    'ovn-nbctl',
    [`--db=${server.nbRemote}`, '--format=json', `--columns=${['_uuid', ...columns].join(',')}`, 'list', table],
    { timeoutMs: 30000 },
  );
  const t = JSON.parse(out) as { headings: string[]; data: OvsdbValue[][] };
  return t.data.map((row) => Object.fromEntries(t.headings.map((h, i) => [h, plain(row[i] ?? ['set', []])])));
}

/**
 * Only the neutron:* external_ids. Left out on purpose:
 * - neutron:security_group_ids: ovnts implements no security groups.
 * - neutron:revision_number: see VARYING_FIELDS in ipam-normalize.ts.
 */
function neutronIds(ids: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((ids ?? {}) as Record<string, unknown>)) {
    if (!k.startsWith('neutron:') || k === 'neutron:security_group_ids' || k === 'neutron:revision_number') continue;
    // ML2/OVN (Zed) writes a trunk subport's owner to the NB one update late: the
    // LSP shows "" while the port is a subport and trunk:subport after it was
    // removed. The API's device_owner (compared in the CLI steps) is right; here
    // both values count as the same.
    o[k] = k === 'neutron:device_owner' && v === 'trunk:subport' ? '' : v;
  }
  return o;
}

/**
 * The NB rows a Neutron server wrote, by table: the columns of the mapping
 * ML2/OVN defines. Row references become the referenced row's name (or cidr).
 * Left out on purpose: Port_Group/ACL/Address_Set (security groups, which
 * ovnts does not implement) and LSP `tag_request` (Zed writes `tag` itself,
 * ovnts writes `tag_request` and northd fills `tag`; `tag` is compared after
 * northd has run, which is what `ovn-nbctl lsp-get-tag` shows).
 */
export async function snapshotNb(server: NeutronHandle, norm: Normalizer): Promise<Record<string, unknown[]>> {
  await server.settled();
  await runOk('ovn-nbctl', [`--db=${server.nbRemote}`, '--wait=sb', '--timeout=60', 'sync'], { timeoutMs: 70000 });
  const dhcp = await nbList(server, 'DHCP_Options', ['cidr', 'options', 'external_ids']);
  const lsps = await nbList(server, 'Logical_Switch_Port', [
    'name',
    'type',
    'addresses',
    'port_security',
    'enabled',
    'parent_name',
    'tag',
    'options',
    'dhcpv4_options',
    'dhcpv6_options',
    'external_ids',
  ]);
  const lrps = await nbList(server, 'Logical_Router_Port', ['name', 'mac', 'networks', 'options', 'external_ids']);
  const names = new Map<string, unknown>();
  // `plain` already wrote each _uuid as `@uuid`.
  for (const r of [...lsps, ...lrps]) names.set(String(r._uuid), r.name);
  for (const r of dhcp) {
    names.set(String(r._uuid), `dhcp(${String(r.cidr)})`);
    // The DHCP server's MAC (IPv6: its server_id) is Neutron's random pick.
    const o = (r.options ?? {}) as Record<string, string>;
    for (const k of ['server_mac', 'server_id']) {
      const v = o[k];
      if (v !== undefined && /^fa:16:3e/.test(v)) norm.name(v, `<dhcp-mac:${String(r.cidr)}>`);
    }
  }
  const deref = (v: unknown): unknown => (Array.isArray(v) ? v.map(deref) : typeof v === 'string' ? (names.get(v) ?? v) : v);
  const strip = (rows: Record<string, unknown>[], refs: readonly string[] = []): Record<string, unknown>[] =>
    rows.map((r) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) {
        if (k === '_uuid') continue;
        o[k] = k === 'external_ids' ? neutronIds(v) : refs.includes(k) ? deref(v) : v;
      }
      return o;
    });
  const switches = await nbList(server, 'Logical_Switch', ['name', 'ports', 'external_ids', 'other_config']);
  const routers = await nbList(server, 'Logical_Router', ['name', 'ports', 'enabled', 'options', 'external_ids']);
  const snapshot: Record<string, Record<string, unknown>[]> = {
    Logical_Switch: strip(switches, ['ports']),
    Logical_Switch_Port: strip(lsps, ['dhcpv4_options', 'dhcpv6_options']).map(routerPortOptions),
    DHCP_Options: strip(dhcp),
    Logical_Router: strip(routers, ['ports']),
    Logical_Router_Port: strip(lrps),
  };
  const out: Record<string, unknown[]> = {};
  for (const [table, rows] of Object.entries(snapshot)) {
    out[table] = (norm.value(rows) as unknown[]).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  return out;
}

/**
 * A router interface port's options without the two VIF options that
 * ML2/OVN's one-shot maintenance task (check_for_mcast_flood_reports in
 * maintenance.py) writes into every port it finds without
 * `mcast_flood_reports` — including a router port still of type "" —
 * whenever the worker first holds its lock: with the real server, whether a
 * router port has them depends on when that task ran, not on the API calls.
 */
function routerPortOptions(row: Record<string, unknown>): Record<string, unknown> {
  const options = row['options'];
  if (typeof options !== 'object' || options === null || !('router-port' in options)) return row;
  const kept = Object.entries(options as Record<string, unknown>).filter(([k]) => k !== 'mcast_flood_reports' && k !== 'requested-chassis');
  return { ...row, options: Object.fromEntries(kept) };
}
