/**
 * The logical-flow language against the real OVN 23.03: the real ovn-northd
 * turns the seed lab's NB into logical flows, and every match and actions
 * string it writes must parse, type-check and round-trip through our printer.
 * The real ovn-trace is the oracle for error messages and for match expansion
 * (it prints the expanded match in its "Constraints are ambiguous" error).
 *
 * One real ovsdb-server serves both databases from fresh files in a temp dir
 * (punix socket there too); everything is killed and removed afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAll, run, runOk, spawnDaemon, tmpDir, type Daemon } from '../helpers/proc.js';
import {
  LflowError,
  evaluate,
  expandMatch,
  parseActions,
  parseMatch,
  printActions,
  printMatch,
  printNormalized,
  toConjunctions,
  type Expr,
  type NormExpr,
  type MatchLookups,
} from '../../src/lib/lflow/index.js';
import { INVALID_ACTIONS, INVALID_MATCHES } from '../unit/lflow-fixtures.js';
import { programNorthbound } from '../../src/lab/seed.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const NB_SCHEMA = join(REPO, 'schemas', 'ovn-nb.ovsschema');
const SB_SCHEMA = join(REPO, 'schemas', 'ovn-sb.ovsschema');

interface Flow {
  readonly pipeline: string;
  readonly table: number;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
}

let dir = '';
let remote = '';
let flows: Flow[] = [];
let lookups: MatchLookups = {};
const daemons: Daemon[] = [];

/** `ovn-sbctl --format=json list` → rows as column → JSON value. */
async function sbList(table: string, columns: string[]): Promise<Record<string, unknown>[]> {
  const out = await runOk('ovn-sbctl', [`--db=${remote}`, '--format=json', `--columns=${columns.join(',')}`, 'list', table]);
  const j = JSON.parse(out) as { headings: string[]; data: unknown[][] };
  return j.data.map((row) => Object.fromEntries(j.headings.map((h, i) => [h, row[i]])));
}

/** An OVSDB JSON set (`["set", [...]]` or a scalar) as an array. */
const setOf = (v: unknown): unknown[] => (Array.isArray(v) && v[0] === 'set' ? (v[1] as unknown[]) : [v]);

before(async () => {
  const tmp = tmpDir('ovnts-lflow-sb');
  dir = tmp.path;
  const sock = join(dir, 'db.sock');
  remote = `unix:${sock}`;
  for (const [db, schema] of [
    ['nb', NB_SCHEMA],
    ['sb', SB_SCHEMA],
  ] as const) {
    await runOk('ovsdb-tool', ['create', join(dir, `${db}.db`), schema]);
  }
  daemons.push(
    await spawnDaemon(
      'ovsdb-server',
      [
        join(dir, 'nb.db'),
        join(dir, 'sb.db'),
        `--remote=punix:${sock}`,
        `--unixctl=${join(dir, 'db.ctl')}`,
        `--pidfile=${join(dir, 'db.pid')}`,
        `--log-file=${join(dir, 'db.log')}`,
        '--no-chdir',
        '-vconsole:off',
      ],
      { readyWhen: async () => (await run('ovsdb-client', ['list-dbs', remote], { timeoutMs: 2000 })).code === 0 },
    ),
  );
  const northdCtl = join(dir, 'northd.ctl');
  daemons.push(
    await spawnDaemon(
      'ovn-northd',
      [
        `--ovnnb-db=${remote}`,
        `--ovnsb-db=${remote}`,
        `--unixctl=${northdCtl}`,
        `--pidfile=${join(dir, 'northd.pid')}`,
        `--log-file=${join(dir, 'northd.log')}`,
        '--no-chdir',
        '-vconsole:off',
      ],
      {
        env: { OVN_RUNDIR: dir, OVN_LOGDIR: dir, OVN_DBDIR: dir },
        readyWhen: async () => /Status: active/.test((await run('ovn-appctl', ['-t', northdCtl, 'status'], { timeoutMs: 2000 })).stdout),
      },
    ),
  );

  // The seed lab's NB (seeds 000/002, the steps `ovnts lab` runs), plus two ACLs.
  const nbctl = (...args: string[]): Promise<string> => runOk('ovn-nbctl', [`--db=${remote}`, '--timeout=30', ...args]);
  await programNorthbound(nbctl);
  await nbctl('acl-add', 'dmz', 'to-lport', '1000', 'ip4.src == 172.16.255.133 && tcp.dst == 22', 'drop');
  await nbctl('acl-add', 'dmz', 'from-lport', '1001', 'ip4 && udp.dst == 53', 'allow-related');
  await nbctl('--wait=sb', 'sync');

  await readSb();
});

/** Reads every Logical_Flow, and the Address_Set and Port_Group tables for `$name` / `@name`. */
async function readSb(): Promise<void> {
  flows = (await sbList('Logical_Flow', ['pipeline', 'table_id', 'priority', 'match', 'actions'])).map((r) => ({
    pipeline: String(r['pipeline']),
    table: Number(r['table_id']),
    priority: Number(r['priority']),
    match: String(r['match']),
    actions: String(r['actions']),
  }));
  const sets = new Map(
    (await sbList('Address_Set', ['name', 'addresses'])).map((r) => [String(r['name']), setOf(r['addresses']).map(String)]),
  );
  // SB port groups are per datapath, named "<datapath tunnel key>_<name>"; the flows say `@<name>`.
  const groups = (await sbList('Port_Group', ['name', 'ports'])).map((r) => [String(r['name']), setOf(r['ports']).map(String)] as const);
  lookups = {
    addressSet: (n) => sets.get(n),
    portGroup: (n) => {
      const found = groups.filter(([g]) => g.endsWith(`_${n}`));
      return found.length === 0 ? undefined : [...new Set(found.flatMap(([, ports]) => ports))].sort();
    },
  };
}

after(async () => {
  for (const d of daemons.reverse()) await d.stop(2000);
  await cleanupAll();
});

const distinct = (xs: string[]): string[] => [...new Set(xs)].sort();

test("northd wrote the seed lab's flows, including the ACLs'", () => {
  assert.ok(flows.length > 150, `${flows.length} logical flows`);
  const matches = flows.map((f) => f.match);
  assert.ok(
    matches.some((m) => m.includes('ip4.src == 172.16.255.133 && tcp.dst == 22')),
    'the drop ACL',
  );
  assert.ok(
    matches.some((m) => m.includes('ip4 && udp.dst == 53')),
    'the allow-related ACL',
  );
  assert.ok(
    flows.some((f) => f.actions.includes('put_dhcp_opts(')),
    'DHCP',
  );
});

function checkMatches(): void {
  const failures: string[] = [];
  for (const m of distinct(flows.map((f) => f.match))) {
    try {
      const e = parseMatch(m, lookups);
      const p = printMatch(e);
      assert.deepEqual(parseMatch(p, lookups), e, `re-parse of ${p}`);
      assert.equal(printMatch(parseMatch(p, lookups)), p);
      // Satisfiable, and small enough to become OpenFlow flows.
      assert.ok(toConjunctions(expandMatch(e, lookups)).length > 0, `${m} is satisfiable`);
    } catch (err) {
      failures.push(`${m}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  assert.deepEqual(failures, []);
}

function checkActions(): void {
  const failures: string[] = [];
  for (const a of distinct(flows.map((f) => f.actions))) {
    try {
      const parsed = parseActions(a);
      const p = printActions(parsed);
      assert.deepEqual(parseActions(p), parsed.length === 0 ? [{ type: 'keyword', name: 'drop' }] : parsed, `re-parse of ${p}`);
      assert.equal(printActions(parseActions(p)), p);
    } catch (err) {
      failures.push(`${a}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  assert.deepEqual(failures, []);
}

test('every distinct match parses, type-checks, round-trips, expands and converts to conjunctions', () => checkMatches());

test('every distinct actions string parses and round-trips', () => checkActions());

/** The message ovn-trace prints for a microflow, without its "error parsing flow: " prefix. */
async function traceError(microflow: string): Promise<string | undefined> {
  const r = await run('ovn-trace', [`--db=${remote}`, 'dmz', microflow], { timeoutMs: 10000 });
  const line = `${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.startsWith('error parsing flow: '));
  return line?.slice('error parsing flow: '.length);
}

test('bad matches: the same error message as the real ovn-trace', async () => {
  const mismatches: string[] = [];
  for (const [input, recorded] of INVALID_MATCHES) {
    const real = await traceError(input);
    let ours = '(accepted)';
    try {
      parseMatch(input);
    } catch (e) {
      if (!(e instanceof LflowError)) throw e;
      ours = e.message;
    }
    if (real !== ours) mismatches.push(`${input}\n  ovn-trace: ${real}\n  ovnts:     ${ours}`);
    assert.equal(real, recorded, `fixture for ${input} is what ovn-trace says`);
  }
  assert.deepEqual(mismatches, []);
});

const hasBoolLiteral = (e: Expr): boolean =>
  e.type === 'bool' ||
  (e.type === 'not' && hasBoolLiteral(e.expr)) ||
  ((e.type === 'and' || e.type === 'or') && e.exprs.some(hasBoolLiteral));

async function checkExpansions(): Promise<number> {
  // `reg0 < 5` makes any satisfiable match "ambiguous" for a microflow, and
  // ovn-trace then prints the whole expanded expression.
  let compared = 0;
  const mismatches: string[] = [];
  for (const m of distinct(flows.map((f) => f.match))) {
    const microflow = `reg0 < 5 && (${m})`;
    const e = parseMatch(microflow, lookups);
    // ovn-trace keeps literal 1/0 inside && and ||; we fold them.
    if (hasBoolLiteral(e)) continue;
    const real = await traceError(microflow);
    const expanded = /^Constraints are ambiguous: (.*)\.$/.exec(real ?? '')?.[1];
    if (expanded === undefined) continue; // contradictory with reg0 < 5, or a complete microflow
    compared++;
    const ours = printNormalized(expandMatch(e, lookups));
    if (ours !== expanded) mismatches.push(`${m}\n  ovn-trace: ${expanded}\n  ovnts:     ${ours}`);
  }
  assert.deepEqual(mismatches, []);
  return compared;
}

test("expansion of every northd match equals ovn-trace's (where it prints one)", async () => {
  const compared = await checkExpansions();
  assert.ok(compared > 50, `compared ${compared} expansions`);
});

/** `ovn-sbctl lflow-list <datapath>`: the flows of one datapath, with their table and stage. */
async function lflowList(
  datapath: string,
): Promise<{ pipeline: string; table: number; stage: string; priority: number; match: string; actions: string }[]> {
  const out = await runOk('ovn-sbctl', [`--db=${remote}`, 'lflow-list', datapath]);
  const rows = [];
  let pipeline = '';
  for (const line of out.split('\n')) {
    const dp = /Pipeline: (\w+)/.exec(line);
    if (dp) pipeline = dp[1]!;
    const m = /^\s+table=(\d+) \((\S+)\s*\), priority=(\d+)\s*, match=\((.*)\), action=\((.*)\)$/.exec(line);
    if (m) rows.push({ pipeline, table: Number(m[1]), stage: m[2]!, priority: Number(m[3]), match: m[4]!, actions: m[5]! });
  }
  return rows;
}

/** Fields that only actions set (registers, flags, conntrack, outport): a stage matching on them depends on earlier actions. */
const ACTION_STATE = /^(xxreg|xreg|flags|ct_|outport|pkt\.mark)/;

const fieldsOf = (e: NormExpr, out = new Set<string>()): Set<string> => {
  if (e.type === 'cmp' || e.type === 'scmp') out.add(e.field);
  if (e.type === 'and' || e.type === 'or') for (const x of e.exprs) fieldsOf(x, out);
  return out;
};

test('evaluate picks the flow ovn-trace picks, in every ingress stage that matches on packet headers only', async () => {
  const microflows = [
    'inport == "dmz-vm5" && eth.src == 02:ac:10:ff:01:32 && eth.dst == 02:ac:10:ff:01:29 && ip4.src == 172.16.255.132 && ip4.dst == 172.16.255.129 && ip.ttl == 64 && icmp4.type == 8',
    'inport == "dmz-vm5" && eth.src == 02:ac:10:ff:01:32 && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.spa == 172.16.255.132 && arp.tpa == 172.16.255.129 && arp.sha == 02:ac:10:ff:01:32',
    'inport == "dmz-vm5" && eth.src == 02:ac:10:ff:01:32 && eth.dst == ff:ff:ff:ff:ff:ff && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 67 && ip.ttl == 64',
    'inport == "dmz-vm5" && eth.src == 02:ac:10:ff:01:32 && vlan.tci == 0x1033 && eth.dst == 02:ac:10:ff:01:29',
    'inport == "dmz-tenant1" && eth.src == 02:ac:10:ff:01:29 && eth.dst == 02:ac:10:ff:01:32 && ip4.src == 172.16.255.129 && ip4.dst == 172.16.255.132 && ip.ttl == 64 && tcp.dst == 22',
    'inport == "dmz-vm5" && eth.src == 03:00:00:00:00:01 && eth.dst == 02:ac:10:ff:01:29',
  ];
  const ingress = (await lflowList('dmz')).filter((f) => f.pipeline === 'ingress');
  const tables = new Map<number, typeof ingress>();
  for (const f of ingress) tables.set(f.table, [...(tables.get(f.table) ?? []), f]);
  const headerOnly = new Set(
    [...tables]
      .filter(([, fs]) =>
        fs.every((f) => [...fieldsOf(expandMatch(parseMatch(f.match, lookups), lookups))].every((x) => !ACTION_STATE.test(x))),
      )
      .map(([t]) => t),
  );
  assert.ok(headerOnly.size >= 3, `header-only stages: ${[...headerOnly].join(', ')}`);
  let compared = 0;
  for (const mf of microflows) {
    // The microflow as a packet: its single conjunction gives every field's value.
    const [conj, ...rest] = toConjunctions(expandMatch(parseMatch(mf)));
    assert.ok(conj !== undefined && rest.length === 0, mf);
    const packet: Record<string, bigint | string> = {};
    for (const a of conj) if (a.type === 'bits') packet[a.field] = a.value;
    for (const a of conj) if (a.type === 'string') packet[a.field] = a.value;

    const r = await run('ovn-trace', [`--db=${remote}`, 'dmz', mf], { timeoutMs: 10000 });
    const lines = r.stdout.split('\n');
    const start = lines.findIndex((l) => l.startsWith('ingress('));
    assert.ok(start >= 0, r.stdout + r.stderr);
    for (const line of lines.slice(start + 2)) {
      if (/^[a-z_]+\(/.test(line)) break; // the next section (ct_next, egress, …)
      const m = /^\s*(\d+)\. (\S+) \([^)]*\): (.*), priority (\d+), uuid/.exec(line);
      if (!m || !headerOnly.has(Number(m[1]))) continue;
      const candidates = tables.get(Number(m[1]))!.filter((f) => evaluate(parseMatch(f.match, lookups), packet, lookups));
      const best = Math.max(...candidates.map((f) => f.priority));
      const ours = candidates.filter((f) => f.priority === best).map((f) => f.match);
      assert.equal(best, Number(m[4]), `${mf}: ${m[2]} priority`);
      assert.ok(ours.includes(m[3]!), `${mf}: ${m[2]}: ovn-trace took (${m[3]}), ours: ${ours.join(' | ')}`);
      compared++;
    }
  }
  assert.ok(compared >= 10, `compared ${compared} stages`);
});

test('more of northd: load balancers, NAT, a gateway port, port-group ACLs with address sets, logging, DHCPv6, RA, DNS', async () => {
  const nbctl = (...args: string[]): Promise<string> => runOk('ovn-nbctl', [`--db=${remote}`, '--timeout=30', ...args]);
  await nbctl('lb-add', 'lb1', '172.16.255.200:80', '172.16.255.132:8080,172.16.255.133:8080', 'tcp');
  await nbctl('ls-lb-add', 'dmz', 'lb1');
  await nbctl('lr-lb-add', 'tenant1', 'lb1');
  await nbctl('lb-add', 'lb6', '[fd00::200]:80', '[fd00::2]:80');
  await nbctl('ls-lb-add', 'dmz', 'lb6');
  await nbctl(
    'set',
    'Logical_Router_Port',
    'tenant1-dmz',
    'networks="172.16.255.129/26","fd00::1/64"',
    'ipv6_ra_configs:address_mode=slaac',
  );
  await nbctl('lrp-add', 'tenant1', 'tenant1-ext', '02:ac:10:ff:00:01', '198.51.100.1/24', '2001:db8::1/64');
  await nbctl('lrp-set-gateway-chassis', 'tenant1-ext', 'ch1', '1');
  await nbctl('lr-nat-add', 'tenant1', 'snat', '198.51.100.10', '172.16.255.128/26');
  await nbctl('lr-nat-add', 'tenant1', 'dnat_and_snat', '198.51.100.11', '172.16.255.132');
  await nbctl('lr-route-add', 'tenant1', '0.0.0.0/0', '198.51.100.254');
  await nbctl('ls-add', 'ext');
  await nbctl('lsp-add', 'ext', 'ln');
  await nbctl('lsp-set-type', 'ln', 'localnet');
  await nbctl('lsp-set-addresses', 'ln', 'unknown');
  await nbctl('lsp-set-options', 'ln', 'network_name=phys');
  await nbctl('lsp-add', 'ext', 'ext-tenant1');
  await nbctl('lsp-set-type', 'ext-tenant1', 'router');
  await nbctl('lsp-set-addresses', 'ext-tenant1', 'router');
  await nbctl('lsp-set-options', 'ext-tenant1', 'router-port=tenant1-ext');
  await nbctl('pg-add', 'pg1', 'dmz-vm5', 'dmz-c51');
  await nbctl('create', 'Address_Set', 'name=as1', 'addresses="10.0.0.1","10.0.1.0/24"');
  await nbctl('acl-add', 'pg1', 'from-lport', '1002', 'inport == @pg1 && ip4.dst == $as1', 'reject');
  await nbctl(
    '--log',
    '--severity=alert',
    '--name=acl_log',
    'acl-add',
    'pg1',
    'to-lport',
    '1003',
    'outport == @pg1 && ip4.src == $pg1_ip4',
    'allow',
  );
  await nbctl('acl-add', 'dmz', 'to-lport', '900', 'icmp4', 'allow-stateless');
  const dhcp6 = (await nbctl('create', 'DHCP_Options', 'cidr="fd00::/64"')).trim();
  await nbctl('dhcp-options-set-options', dhcp6, 'server_id=02:ac:10:ff:01:29', 'dns_server=fd00::53', 'domain_search="ovn.org"');
  await nbctl('lsp-set-addresses', 'dmz-vm5', '02:ac:10:ff:01:32 172.16.255.132 fd00::132');
  await nbctl('lsp-set-dhcpv6-options', 'dmz-vm5', dhcp6);
  const dhcp4 = (await nbctl('--bare', '--columns=_uuid', 'find', 'DHCP_Options', 'cidr="172.16.255.128/26"')).trim();
  await nbctl(
    'dhcp-options-set-options',
    dhcp4,
    'lease_time=3600',
    'router=172.16.255.129',
    'server_id=172.16.255.129',
    'server_mac=02:ac:10:ff:01:29',
    'dns_server={8.8.8.8,8.8.4.4}',
    'domain_name="ovn.org"',
    'classless_static_route={30.0.0.0/24,172.16.255.130, 0.0.0.0/0,172.16.255.129}',
    'mtu=1400',
  );
  await nbctl(
    '--',
    '--id=@d',
    'create',
    'DNS',
    'records={"vm5.ovn.org"="172.16.255.132"}',
    '--',
    'add',
    'Logical_Switch',
    'dmz',
    'dns_records',
    '@d',
  );
  await nbctl('--wait=sb', 'sync');
  await readSb();

  const actions = flows.map((f) => f.actions).join('\n');
  for (const needle of [
    'ct_lb_mark(backends=',
    'ct_snat_in_czone(',
    'ct_dnat_in_czone(',
    'log(',
    'reject {',
    'put_dhcpv6_opts(',
    'put_nd_ra_opts(',
    'dns_lookup()',
  ]) {
    assert.ok(actions.includes(needle), `northd wrote ${needle}`);
  }
  checkMatches();
  checkActions();
  const compared = await checkExpansions();
  assert.ok(compared > 120, `compared ${compared} expansions`);
});

test('bad actions: the same error message as the real ovn-trace', async () => {
  // Stop northd so it does not remove rows it did not write; then one
  // Logical_Flow per bad actions string. ovn-trace parses every row and logs
  // "<actions>: parsing actions failed (<message>)".
  const northd = daemons.find((d) => d.name === 'ovn-northd');
  assert.ok(northd);
  await northd.stop(2000);
  const sbctl = (...args: string[]): Promise<string> => runOk('ovn-sbctl', [`--db=${remote}`, '--timeout=30', ...args]);
  const dp = (await sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=dmz')).trim();
  await sbctl('--all', 'destroy', 'Logical_Flow');
  const creates = INVALID_ACTIONS.flatMap(([actions], i) => [
    '--',
    'create',
    'Logical_Flow',
    `logical_datapath=${dp}`,
    'pipeline=ingress',
    'table_id=0',
    `priority=${1000 + i}`,
    'match="1"',
    `actions=${JSON.stringify(actions)}`,
  ]);
  await sbctl(...creates);
  const r = await run('ovn-trace', [`--db=${remote}`, 'dmz', 'inport == "dmz-vm5" && eth.src == 02:ac:10:ff:01:32'], { timeoutMs: 20000 });
  const real = new Map<string, string>();
  for (const line of r.stderr.split('\n')) {
    const m = /\|ovntrace\|WARN\|(.*): parsing actions failed \((.*)\)$/.exec(line);
    if (m) real.set(m[1]!, m[2]!);
  }
  const mismatches: string[] = [];
  for (const [actions, recorded] of INVALID_ACTIONS) {
    let ours = '(accepted)';
    try {
      parseActions(actions);
    } catch (e) {
      if (!(e instanceof LflowError)) throw e;
      ours = e.message;
    }
    const theirs = real.get(actions) ?? '(accepted)';
    if (theirs !== ours) mismatches.push(`${actions}\n  ovn-trace: ${theirs}\n  ovnts:     ${ours}`);
    assert.equal(theirs, recorded, `fixture for ${actions} is what ovn-trace says`);
  }
  assert.deepEqual(mismatches, []);
});
