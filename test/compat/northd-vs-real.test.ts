/**
 * ovnts northd against the real ovn-northd, stage by stage: the same NB steps go
 * into two NB/SB pairs, one translated by each; after every step both SBs must be
 * the same — every logical flow (`ovn-sbctl lflow-list`, UUIDs stripped), every
 * Port_Binding, Multicast_Group, Address_Set and Port_Group — and so must the NB
 * tags northd allocates. The steps cover the seed lab (DHCP, nested ports),
 * stateful and stateless ACLs, port groups and address sets, a second switch
 * behind the router with a static route, `unknown` addresses, tag allocation
 * and deletions. Each step is applied after the previous one, so this also
 * checks that northd converges on changes, not only from scratch.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { cleanupAll, run, runOk, spawnDaemon, tmpDir, type Daemon } from '../helpers/proc.js';
import { startOvnDatabases, type LabDatabases } from '../helpers/ovn-lab.js';
import { startOvntsNorthd, type OvntsNorthdHandle } from '../helpers/ovnts-northd.js';
import { INSIDE_BEHIND_TENANT1, nbctlChain } from '../helpers/nb-topology.js';

after(cleanupAll);

const DHCP = 'options="lease_time"="3600" "router"="172.16.255.129" "server_id"="172.16.255.129" "server_mac"="02:ac:10:ff:01:29"';

/** Steps: each a list of ovn-nbctl invocations; `{dhcp}` is the DHCP_Options row. */
const STEPS: Array<{ name: string; cmds: string[][] }> = [
  {
    name: 'seed lab',
    cmds: [
      ['lr-add', 'tenant1', '--', 'lrp-add', 'tenant1', 'tenant1-dmz', '02:ac:10:ff:01:29', '172.16.255.129/26'],
      [
        'ls-add',
        'dmz',
        '--',
        'lsp-add',
        'dmz',
        'dmz-tenant1',
        '--',
        'lsp-set-type',
        'dmz-tenant1',
        'router',
        '--',
        'lsp-set-addresses',
        'dmz-tenant1',
        'router',
        '--',
        'lsp-set-options',
        'dmz-tenant1',
        'router-port=tenant1-dmz',
      ],
      [
        'lsp-add',
        'dmz',
        'dmz-vm5',
        '--',
        'lsp-set-addresses',
        'dmz-vm5',
        '02:ac:10:ff:01:32 172.16.255.132',
        '--',
        'lsp-set-port-security',
        'dmz-vm5',
        '02:ac:10:ff:01:32 172.16.255.132',
        '--',
        'lsp-set-dhcpv4-options',
        'dmz-vm5',
        '{dhcp}',
      ],
      [
        'lsp-add',
        'dmz',
        'dmz-c51',
        'dmz-vm5',
        '51',
        '--',
        'lsp-set-addresses',
        'dmz-c51',
        '02:ac:10:ff:01:33 172.16.255.133',
        '--',
        'lsp-set-port-security',
        'dmz-c51',
        '02:ac:10:ff:01:33 172.16.255.133',
        '--',
        'lsp-set-dhcpv4-options',
        'dmz-c51',
        '{dhcp}',
      ],
      [
        'lsp-add',
        'dmz',
        'dmz-c52',
        'dmz-vm5',
        '52',
        '--',
        'lsp-set-addresses',
        'dmz-c52',
        '02:ac:10:ff:01:34 172.16.255.134',
        '--',
        'lsp-set-port-security',
        'dmz-c52',
        '02:ac:10:ff:01:34 172.16.255.134',
        '--',
        'lsp-set-dhcpv4-options',
        'dmz-c52',
        '{dhcp}',
      ],
    ],
  },
  {
    name: 'stateful ACLs',
    cmds: [
      ['acl-add', 'dmz', 'to-lport', '1001', 'ip4.src == 172.16.255.133 && icmp4', 'allow-related'],
      ['acl-add', 'dmz', 'from-lport', '1000', 'ip4.dst == 172.16.255.200', 'drop'],
    ],
  },
  {
    name: 'port group and address set',
    cmds: [
      ['pg-add', 'pg1', 'dmz-c51', 'dmz-c52'],
      ['create', 'Address_Set', 'name=as1', 'addresses="172.16.255.133","172.16.255.134"'],
      ['acl-add', 'pg1', 'to-lport', '1002', 'outport == @pg1 && ip4.src == $as1 && tcp.dst == 22', 'drop'],
    ],
  },
  {
    name: 'second switch, unknown addresses, static route',
    cmds: [
      nbctlChain(...INSIDE_BEHIND_TENANT1),
      ['lsp-add', 'inside', 'in1', '--', 'lsp-set-addresses', 'in1', '02:00:00:00:02:10 10.0.0.10', 'unknown'],
      ['lsp-add', 'inside', 'in2', '--', 'lsp-set-addresses', 'in2', '02:00:00:00:02:11 10.0.0.11'],
      ['lr-route-add', 'tenant1', '192.0.2.0/24', '10.0.0.254'],
    ],
  },
  {
    name: 'stateless ACLs on a switch without stateful ones',
    cmds: [
      ['acl-add', 'inside', 'from-lport', '900', 'ip4.src == 10.0.0.11 && udp', 'drop'],
      ['acl-add', 'inside', 'to-lport', '800', 'tcp.dst == 80', 'allow'],
      ['acl-add', 'inside', 'from-lport', '700', 'arp', 'allow-stateless'],
    ],
  },
  {
    name: 'tag allocation, deletions and changes',
    cmds: [
      ['lsp-add', 'inside', 'in1-c1', 'in1', '0', '--', 'lsp-set-addresses', 'in1-c1', '02:00:00:00:02:21 10.0.0.21'],
      ['lsp-add', 'inside', 'in1-c2', 'in1', '0'],
      ['lsp-del', 'dmz-c52'],
      ['lsp-set-addresses', 'in2', '02:00:00:00:02:12 10.0.0.12'],
      ['acl-del', 'dmz', 'to-lport', '1001', 'ip4.src == 172.16.255.133 && icmp4'],
    ],
  },
];

interface Side {
  readonly dbs: LabDatabases;
  northd: { stop(): Promise<void> };
  dhcp: string;
}

function normalizeLflows(text: string): string {
  const blocks = text.split(/^(?=Datapath: )/m).filter((b) => b.trim() !== '');
  return blocks
    .map((b) => {
      const [head, ...lines] = b.trimEnd().split('\n');
      return [(head ?? '').replace(/ \([0-9a-f-]{36}\)/, ''), ...lines].join('\n');
    })
    .sort()
    .join('\n');
}

async function sbDump(sb: string): Promise<Record<string, string>> {
  const sbctl = (...a: string[]): Promise<string> => runOk('ovn-sbctl', [`--db=${sb}`, '--timeout=20', ...a]);
  const csv = async (table: string, cols: string): Promise<string> =>
    (await sbctl('--format=csv', '--no-headings', '--data=bare', `--columns=${cols}`, 'list', table)).trim().split('\n').sort().join('\n');
  // Multicast group members as port names (the UUIDs differ between the SBs).
  const pbNames = new Map<string, string>();
  for (const line of (await sbctl('--format=csv', '--no-headings', '--data=bare', '--columns=_uuid,logical_port', 'list', 'Port_Binding'))
    .trim()
    .split('\n')) {
    const [u, n] = line.split(',');
    if (u !== undefined && n !== undefined) pbNames.set(u, n);
  }
  const mc = (await sbctl('--format=csv', '--no-headings', '--data=bare', '--columns=name,tunnel_key,ports', 'list', 'Multicast_Group'))
    .trim()
    .split('\n')
    .map((l) => l.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, (u) => pbNames.get(u) ?? u))
    .map((l) => {
      const [name, key, ports] = l.split(',');
      return `${name},${key},${(ports ?? '').split(' ').sort().join(' ')}`;
    })
    .sort()
    .join('\n');
  // How the flows are stored: rows shared by datapaths through Logical_DP_Group, as OVN does.
  const rowCount = String(
    (await sbctl('--bare', '--columns=_uuid', 'list', 'Logical_Flow')).split('\n').filter((l) => l.trim() !== '').length,
  );
  return {
    lflowRows: rowCount,
    lflows: normalizeLflows(await sbctl('lflow-list')),
    ports: await csv('Port_Binding', 'logical_port,type,mac,options,parent_port,tag,port_security'),
    multicast: mc,
    addressSets: await csv('Address_Set', 'name,addresses'),
    portGroups: await csv('Port_Group', 'name,ports'),
    datapaths: (await csv('Datapath_Binding', 'external_ids'))
      .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, 'U')
      .split('\n')
      .sort()
      .join('\n'),
  };
}

/** Line-level difference of two texts, for a readable failure. */
function diffLines(a: string, b: string): string {
  const as = new Set(a.split('\n'));
  const bs = new Set(b.split('\n'));
  return [
    ...[...as].filter((l) => !bs.has(l)).map((l) => `- real:  ${l}`),
    ...[...bs].filter((l) => !as.has(l)).map((l) => `+ ovnts: ${l}`),
  ].join('\n');
}

let real: Side;
let ovnts: Side;
let dir: ReturnType<typeof tmpDir>;

async function startRealNorthd(dbs: LabDatabases, d: string): Promise<Daemon> {
  const ctl = join(d, 'ovn-northd.ctl');
  return spawnDaemon(
    'ovn-northd',
    [
      `--ovnnb-db=${dbs.nbRemote}`,
      `--ovnsb-db=${dbs.sbRemote}`,
      `--unixctl=${ctl}`,
      `--log-file=${join(d, 'ovn-northd.log')}`,
      '--no-chdir',
      '-vconsole:err',
    ],
    {
      name: 'ovn-northd',
      env: { OVN_RUNDIR: d, OVN_LOGDIR: d, OVN_DBDIR: d },
      readyWhen: async () => /Status: active/.test((await run('ovn-appctl', ['-t', ctl, 'status'], { timeoutMs: 5000 })).stdout),
    },
  );
}

before(async () => {
  dir = tmpDir('ovnts-northd-vs-real');
  const mk = (name: string): string => {
    const d = join(dir.path, name);
    mkdirSync(d);
    return d;
  };
  const rd = mk('real');
  const od = mk('ovnts');
  const rdbs = await startOvnDatabases(rd, 'real');
  const odbs = await startOvnDatabases(od, 'ovnts');
  const rn = await startRealNorthd(rdbs, rd);
  const on: OvntsNorthdHandle = await startOvntsNorthd({ dbs: odbs, dir: od, log: () => {} });
  real = { dbs: rdbs, northd: rn, dhcp: '' };
  ovnts = { dbs: odbs, northd: on, dhcp: '' };
  for (const s of [real, ovnts]) {
    // Both made-up MACs fixed, so that the two SBs can be equal.
    await runOk('ovn-nbctl', [
      `--db=${s.dbs.nbRemote}`,
      'set',
      'NB_Global',
      '.',
      'options:svc_monitor_mac="0a:00:00:00:00:fe"',
      'options:mac_prefix="0a:00:00"',
    ]);
    s.dhcp = (await runOk('ovn-nbctl', [`--db=${s.dbs.nbRemote}`, 'create', 'DHCP_Options', 'cidr=172.16.255.128/26', DHCP])).trim();
  }
});

after(async () => {
  for (const s of [real, ovnts]) {
    await s?.northd.stop();
    await s?.dbs.stop();
  }
  dir?.cleanup();
});

for (const step of STEPS) {
  test(`same SB as the real ovn-northd after: ${step.name}`, { timeout: 120_000 }, async () => {
    for (const s of [real, ovnts]) {
      for (const c of step.cmds)
        await runOk('ovn-nbctl', [`--db=${s.dbs.nbRemote}`, '--timeout=20', ...c.map((a) => a.replace('{dhcp}', s.dhcp))]);
      await runOk('ovn-nbctl', [`--db=${s.dbs.nbRemote}`, '--timeout=20', '--wait=sb', 'sync']);
    }
    const [r, o] = await Promise.all([sbDump(real.dbs.sbRemote), sbDump(ovnts.dbs.sbRemote)]);
    for (const k of Object.keys(r)) assert.equal(o[k], r[k], `${k} differ after "${step.name}":\n${diffLines(r[k] ?? '', o[k] ?? '')}`);
    const tags = async (s: Side): Promise<string> =>
      (
        await runOk('ovn-nbctl', [
          `--db=${s.dbs.nbRemote}`,
          '--format=csv',
          '--no-headings',
          '--data=bare',
          '--columns=name,parent_name,tag_request,tag',
          'list',
          'Logical_Switch_Port',
        ])
      )
        .trim()
        .split('\n')
        .sort()
        .join('\n');
    assert.equal(await tags(ovnts), await tags(real), 'NB tags');
    // Incremental processing kept the same flows a full recompute gives.
    const check = await runOk('ovn-appctl', ['-t', (ovnts.northd as OvntsNorthdHandle).ctl, 'debug/recompute-check']);
    assert.equal(check.trim(), 'incremental flows equal a full recompute');
  });
}

test('a northd started on the SB these incremental passes built finds nothing to change', { timeout: 120_000 }, async () => {
  // A full recompute gives the same SB: the new northd's first pass (from scratch)
  // leaves every row as it was, UUIDs included.
  const tables = ['Datapath_Binding', 'Port_Binding', 'Multicast_Group', 'Logical_Flow', 'Logical_DP_Group', 'Address_Set', 'Port_Group'];
  const dump = async (): Promise<string> => {
    const out: string[] = [];
    for (const t of tables)
      out.push((await runOk('ovsdb-client', ['dump', ovnts.dbs.sbRemote, 'OVN_Southbound', t])).split('\n').sort().join('\n'));
    return out.join('\n');
  };
  const before = await dump();
  await ovnts.northd.stop();
  const d = join(dir.path, 'ovnts-restarted');
  mkdirSync(d);
  ovnts.northd = await startOvntsNorthd({ dbs: ovnts.dbs, dir: d, log: () => {} });
  await runOk('ovn-nbctl', [`--db=${ovnts.dbs.nbRemote}`, '--timeout=20', '--wait=sb', 'sync']);
  assert.equal(await dump(), before);
});
