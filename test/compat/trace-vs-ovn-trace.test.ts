/**
 * `ovnts trace` against the real ovn-trace (OVN 23.03) on the same Southbound
 * database: ovnts ovsdb-server holds NB and SB, the seed lab's NB (switch dmz
 * behind router tenant1, DHCP options, dmz-vm5 with containers dmz-c51/dmz-c52
 * nested under it by tag) plus two ACLs on a port group (a drop, and an
 * allow-related to an address set), and a northd fills the SB. For every
 * microflow of the table, both tools run with the same arguments in all three
 * formats; stdout and exit code must be equal (and the warnings for errors).
 *
 * The SB filler is a parameter: the real ovn-northd by default, ovnts northd
 * with OVNTS_TRACE_NORTHD=ovnts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cleanupAll, run, runOk, spawnDaemon, tmpDir, type TmpDir } from '../helpers/proc.js';
import { LAB_HOSTS, ROUTER_IP, ROUTER_MAC, startOvnDatabases, type LabDatabases } from '../helpers/ovn-lab.js';
import { programNorthbound } from '../../src/lab/seed.js';
import { startOvntsNorthd } from '../helpers/ovnts-northd.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';

/** Starts something that fills the SB from the NB; returns how to stop it. */
export type SbFiller = (ctx: { dbs: LabDatabases; dir: string }) => Promise<{ stop(): Promise<void> }>;

export const realNorthd: SbFiller = async ({ dbs, dir }) => {
  const ctl = join(dir, 'ovn-northd.ctl');
  const d = await spawnDaemon(
    'ovn-northd',
    [
      `--ovnnb-db=${dbs.nbRemote}`,
      `--ovnsb-db=${dbs.sbRemote}`,
      `--unixctl=${ctl}`,
      `--pidfile=${join(dir, 'ovn-northd.pid')}`,
      `--log-file=${join(dir, 'ovn-northd.log')}`,
      '--no-chdir',
      '-vconsole:off',
    ],
    {
      name: 'ovn-northd',
      env: { OVN_RUNDIR: dir, OVN_LOGDIR: dir, OVN_DBDIR: dir },
      readyWhen: async () => /Status: active/.test((await run('ovn-appctl', ['-t', ctl, 'status'], { timeoutMs: 5000 })).stdout),
    },
  );
  return { stop: () => d.stop() };
};

export const ovntsNorthd: SbFiller = ({ dbs, dir }) => startOvntsNorthd({ dbs, dir, log: () => undefined });

const FILLER: SbFiller = process.env['OVNTS_TRACE_NORTHD'] === 'ovnts' ? ovntsNorthd : realNorthd;

const [VM5, C51, C52] = LAB_HOSTS as [(typeof LAB_HOSTS)[number], (typeof LAB_HOSTS)[number], (typeof LAB_HOSTS)[number]];
const eth = (h: (typeof LAB_HOSTS)[number], dst: string): string => `inport == "${h.lsp}" && eth.src == ${h.mac} && eth.dst == ${dst}`;

const VIP = '172.16.255.140';

/** [name, extra options, datapath, microflow]. */
const CASES: readonly (readonly [string, readonly string[], string, string])[] = [
  [
    'DHCP discover from c51',
    [],
    'dmz',
    `${eth(C51, 'ff:ff:ff:ff:ff:ff')} && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 67 && ip.ttl == 64`,
  ],
  [
    'ARP for the router from vm5',
    [],
    'dmz',
    `${eth(VM5, 'ff:ff:ff:ff:ff:ff')} && arp.op == 1 && arp.sha == ${VM5.mac} && arp.spa == ${VM5.ip} && arp.tpa == ${ROUTER_IP}`,
  ],
  [
    'ICMP echo to the router from c52',
    [],
    'dmz',
    `${eth(C52, ROUTER_MAC)} && ip4.src == ${C52.ip} && ip4.dst == ${ROUTER_IP} && icmp4.type == 8 && icmp4.code == 0 && ip.ttl == 64`,
  ],
  [
    'c51 to c52 (unicast IP)',
    [],
    'dmz',
    `${eth(C51, C52.mac)} && ip4.src == ${C51.ip} && ip4.dst == ${C52.ip} && icmp4.type == 8 && ip.ttl == 64`,
  ],
  [
    'spoofed source MAC from c51',
    [],
    'dmz',
    `inport == "${C51.lsp}" && eth.src == 02:ac:10:ff:01:99 && eth.dst == ${C52.mac} && ip4.src == ${C51.ip} && ip4.dst == ${C52.ip} && ip.ttl == 64`,
  ],
  ['spoofed source IP from c51', [], 'dmz', `${eth(C51, C52.mac)} && ip4.src == 172.16.255.190 && ip4.dst == ${C52.ip} && ip.ttl == 64`],
  [
    'vm5 frame with an unassigned VLAN (99)',
    [],
    'dmz',
    `${eth(VM5, C52.mac)} && vlan.tci == 0x1063 && ip4.src == ${VM5.ip} && ip4.dst == ${C52.ip} && ip.ttl == 64`,
  ],
  [
    'ssh c51 to c52: drop ACL',
    [],
    'dmz',
    `${eth(C51, C52.mac)} && ip4.src == ${C51.ip} && ip4.dst == ${C52.ip} && tcp.dst == 22 && ip.ttl == 64`,
  ],
  [
    'http c51 to c52: allow-related ACL',
    [],
    'dmz',
    `${eth(C51, C52.mac)} && ip4.src == ${C51.ip} && ip4.dst == ${C52.ip} && tcp.dst == 80 && ip.ttl == 64`,
  ],
  [
    'http c51 to c52, new connection',
    ['--ct=new'],
    'dmz',
    `${eth(C51, C52.mac)} && ip4.src == ${C51.ip} && ip4.dst == ${C52.ip} && tcp.dst == 80 && ip.ttl == 64`,
  ],
  [
    'ssh c51 to c52, new then est',
    ['--ct=new', '--ct=est'],
    'dmz',
    `${eth(C51, C52.mac)} && ip4.src == ${C51.ip} && ip4.dst == ${C52.ip} && tcp.dst == 22 && ip.ttl == 64`,
  ],
  [
    'ARP for an unknown address: _MC_flood',
    [],
    'dmz',
    `${eth(C51, 'ff:ff:ff:ff:ff:ff')} && arp.op == 1 && arp.sha == ${C51.mac} && arp.spa == ${C51.ip} && arp.tpa == 172.16.255.150`,
  ],
  [
    'c52 to an unknown MAC: _MC_unknown or drop',
    [],
    'dmz',
    `${eth(C52, '02:00:00:00:00:99')} && ip4.src == ${C52.ip} && ip4.dst == ${C51.ip} && ip.ttl == 64`,
  ],
  [
    'c52 via the router to .150: get_arp finds its MAC_Binding',
    [],
    'dmz',
    `${eth(C52, ROUTER_MAC)} && ip4.src == ${C52.ip} && ip4.dst == 172.16.255.150 && ip.ttl == 64`,
  ],
  [
    'c52 via the router to .151: no MAC_Binding, arp { } floods',
    [],
    'dmz',
    `${eth(C52, ROUTER_MAC)} && ip4.src == ${C52.ip} && ip4.dst == 172.16.255.151 && ip.ttl == 64`,
  ],
  [
    'c52 via the router to 8.8.8.8: no route',
    [],
    'dmz',
    `${eth(C52, ROUTER_MAC)} && ip4.src == ${C52.ip} && ip4.dst == 8.8.8.8 && ip.ttl == 64`,
  ],
  [
    "ARP from c52 for .150: the router's lookup_arp finds c52",
    [],
    'dmz',
    `${eth(C52, 'ff:ff:ff:ff:ff:ff')} && arp.op == 1 && arp.sha == ${C52.mac} && arp.spa == ${C52.ip} && arp.tpa == 172.16.255.150`,
  ],
  [
    'c51 to the router MAC with TTL 1',
    [],
    'dmz',
    `${eth(C51, ROUTER_MAC)} && ip4.src == ${C51.ip} && ip4.dst == 172.16.255.150 && udp.dst == 9 && ip.ttl == 1`,
  ],
  [
    '--all: the three formats in one',
    ['--all'],
    'dmz',
    `${eth(C52, ROUTER_MAC)} && ip4.src == ${C52.ip} && ip4.dst == ${ROUTER_IP} && icmp4.type == 8 && icmp4.code == 0 && ip.ttl == 64`,
  ],
  [
    '--no-friendly-names: NB UUIDs for datapaths',
    ['--no-friendly-names'],
    'dmz',
    `${eth(C52, ROUTER_MAC)} && ip4.src == ${C52.ip} && ip4.dst == ${ROUTER_IP} && icmp4.type == 8 && icmp4.code == 0 && ip.ttl == 64`,
  ],
  [
    'c51 to the LB VIP, established',
    [],
    'dmz',
    `${eth(C51, C52.mac)} && ip4.src == ${C51.ip} && ip4.dst == ${VIP} && tcp.dst == 80 && ip.ttl == 64`,
  ],
  [
    'c51 to the LB VIP, new: ct_lb_mark to the backend',
    ['--ct=new', '--ct=new', '--ct=new'],
    'dmz',
    `${eth(C51, C52.mac)} && ip4.src == ${C51.ip} && ip4.dst == ${VIP} && tcp.dst == 80 && ip.ttl == 64`,
  ],
  [
    'c51 to the LB VIP, new then est',
    ['--ct=new', '--ct=new', '--ct=est,rpl'],
    'dmz',
    `${eth(C51, C52.mac)} && ip4.src == ${C51.ip} && ip4.dst == ${VIP} && tcp.dst == 80 && ip.ttl == 64`,
  ],
  [
    'impossible --ct states: warnings, then the trace',
    ['--ct=new,est', '--ct=new,rpl', '--ct=inv,est'],
    'dmz',
    `${eth(C51, C52.mac)} && ip4.src == ${C51.ip} && ip4.dst == ${C52.ip} && tcp.dst == 80 && ip.ttl == 64`,
  ],
  [
    'IPv6 UDP c51 to c52',
    [],
    'dmz',
    `${eth(C51, C52.mac)} && ip6.src == fe80::ac:10ff:feff:133 && ip6.dst == fe80::ac:10ff:feff:134 && udp.dst == 53 && ip.ttl == 64`,
  ],
  [
    'no datapath argument',
    [],
    '',
    `${eth(C52, C51.mac)} && ip4.src == ${C52.ip} && ip4.dst == ${C51.ip} && udp.src == 53 && udp.dst == 53 && ip.ttl == 64`,
  ],
  ['syntax error in the microflow', [], 'dmz', `inport == "${C51.lsp}" && tcp.dst ==`],
  ['unknown field', [], 'dmz', `inport == "${C51.lsp}" && foo == 1`],
  ['ambiguous microflow', [], 'dmz', `inport == "${C51.lsp}" && (ip4.src == 1.2.3.4 || ip4.src == 1.2.3.5)`],
  ['contradictory microflow (two sources)', [], 'dmz', `inport == "${C51.lsp}" && ip4.src == 1.1.1.1 && ip4.src == 2.2.2.2`],
  ['contradictory microflow (prerequisites)', [], 'dmz', `inport == "${C51.lsp}" && tcp.dst == 80 && udp.dst == 53`],
  ['constant too wide', [], 'dmz', `inport == "${C51.lsp}" && tcp.dst == 99999`],
  [
    'masked and bit-selected constraints, a register',
    [],
    'dmz',
    `inport == "${C51.lsp}" && ip4.src == 1.1.1.0/24 && eth.dst[40] && reg0[3] == 1 && ip.ttl == 3`,
  ],
  ['no L3 at all', [], 'dmz', `inport == "${C51.lsp}" && eth.src == ${C51.mac}`],
  ['unknown datapath', [], 'nodp', `inport == "${C51.lsp}"`],
];

let tmp: TmpDir;
let dbs: LabDatabases;
let filler: { stop(): Promise<void> } | undefined;

before(async () => {
  tmp = tmpDir('ovnts-trace-compat');
  dbs = await startOvnDatabases(tmp.path, 'ovnts');
  const nbctl = (...args: string[]): Promise<string> => runOk('ovn-nbctl', [`--db=${dbs.nbRemote}`, '--timeout=30', ...args]);
  filler = await FILLER({ dbs, dir: tmp.path });
  // The seed lab's NB, the steps `ovnts lab` runs.
  await programNorthbound(nbctl);
  // ACLs: a drop and an allow-related, on a port group and an address set.
  await nbctl('pg-add', 'pg_c', C51.lsp, C52.lsp);
  await nbctl('create', 'Address_Set', 'name=as_web', `addresses="${C52.ip}"`);
  await nbctl('acl-add', 'pg_c', 'to-lport', '1000', `outport == @pg_c && ip4.src == ${C51.ip} && tcp.dst == 22`, 'drop');
  await nbctl('acl-add', 'pg_c', 'to-lport', '1001', 'outport == @pg_c && ip4.dst == $as_web && tcp.dst == 80', 'allow-related');
  // A load balancer VIP in front of c52, for ct_lb_mark.
  await nbctl('lb-add', 'lb0', `${VIP}:80`, `${C52.ip}:80`, 'tcp');
  await nbctl('ls-lb-add', 'dmz', 'lb0');
  await nbctl('--wait=sb', 'sync');
  // A chassis with vm5 bound to it, as if a controller had claimed it.
  await runOk('ovn-sbctl', [`--db=${dbs.sbRemote}`, 'chassis-add', 'trace-hv', 'geneve', '127.0.0.1']);
  await runOk('ovn-sbctl', [`--db=${dbs.sbRemote}`, 'lsp-bind', VM5.lsp, 'trace-hv']);
  // Neighbours the router has learned (what put_arp would have written).
  const router = (
    await runOk('ovn-sbctl', [`--db=${dbs.sbRemote}`, '--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=tenant1'])
  ).trim();
  for (const [ip, mac] of [
    ['172.16.255.150', '02:ac:10:ff:01:50'],
    [C52.ip, C52.mac],
  ]) {
    await runOk('ovn-sbctl', [
      `--db=${dbs.sbRemote}`,
      'create',
      'MAC_Binding',
      'logical_port=tenant1-dmz',
      `ip=${ip}`,
      `mac="${mac}"`,
      `datapath=${router}`,
    ]);
  }
});

after(async () => {
  await filler?.stop();
  await dbs?.stop();
  tmp?.cleanup();
  await cleanupAll();
});

/** Warnings without vlog's timestamp; the real tool's assertion-failure line is its own. */
const warnings = (stderr: string): string[] =>
  stderr.split('\n').flatMap((l) => (/\|WARN\|/.test(l) ? [l.replace(/^[^|]*\|\d+\|/, '')] : []));

for (const format of ['--minimal', '--summary', '--detailed']) {
  for (const [name, opts, dp, flow] of CASES) {
    test(`${format} ${name}`, async () => {
      const args = [`--db=${dbs.sbRemote}`, format, ...opts, ...(dp === '' ? [] : [dp]), flow];
      const real = await run('ovn-trace', args);
      const ours = await run(OVNTS, ['trace', ...args]);
      assert.equal(ours.stdout, real.stdout, `stdout of ovn-trace ${args.join(' ')}`);
      assert.equal(ours.code, real.code, `exit code; stderr: ${ours.stderr}`);
      assert.deepEqual(warnings(ours.stderr), warnings(real.stderr));
    });
  }
}

/**
 * A hand-made SB (no northd): tables without a matching flow, `next(N)` past
 * empty tables and past the last one, a flow without a stage name.
 */
test('hand-made SB: implicit drops, next(N), unnamed stages, clone, ct_commit/ct_clear, next(pipeline=egress) — equal in every format', async () => {
  const dir = tmpDir('ovnts-trace-handmade');
  const hand = await startOvnDatabases(dir.path, 'ovnts');
  try {
    const sbctl = async (...args: string[]): Promise<string> => (await runOk('ovn-sbctl', [`--db=${hand.sbRemote}`, ...args])).trim();
    const dp = await sbctl('create', 'Datapath_Binding', 'tunnel_key=1', 'external_ids:name=ls9');
    await sbctl('create', 'Port_Binding', 'logical_port=p1', 'tunnel_key=1', `datapath=${dp}`);
    await sbctl('create', 'Port_Binding', 'logical_port=p2', 'tunnel_key=2', `datapath=${dp}`);
    const lflow = (pipeline: string, table: number, priority: number, match: string, actions: string, stage?: string): Promise<string> =>
      sbctl(
        'create',
        'Logical_Flow',
        `logical_datapath=${dp}`,
        `pipeline=${pipeline}`,
        `table_id=${table}`,
        `priority=${priority}`,
        `match=${JSON.stringify(match)}`,
        `actions=${JSON.stringify(actions)}`,
        ...(stage === undefined ? [] : [`external_ids:stage-name=${stage}`]),
      );
    await lflow('ingress', 0, 10, 'ip4', 'next;', 's0');
    await lflow('ingress', 0, 20, 'ip4.dst == 10.0.0.9', 'next(3);', 's0');
    await lflow('ingress', 0, 30, 'ip4.dst == 10.0.0.8', 'next(6);', 's0');
    await lflow('ingress', 1, 10, 'ip4.dst == 10.0.0.2', 'outport = "p2"; output;', 's1');
    await lflow('ingress', 4, 20, '1', 'drop;', 's4');
    await lflow('egress', 0, 10, '1', 'output;');
    // A second switch for actions: clone, ct_commit { }, ct_clear, ip.ttl--, register moves, next(pipeline=egress).
    const dp8 = await sbctl('create', 'Datapath_Binding', 'tunnel_key=2', 'external_ids:name=ls8');
    await sbctl('create', 'Port_Binding', 'logical_port=q1', 'tunnel_key=1', `datapath=${dp8}`);
    await sbctl('create', 'Port_Binding', 'logical_port=q2', 'tunnel_key=2', `datapath=${dp8}`);
    const lflow8 = (pipeline: string, table: number, priority: number, match: string, actions: string): Promise<string> =>
      sbctl(
        'create',
        'Logical_Flow',
        `logical_datapath=${dp8}`,
        `pipeline=${pipeline}`,
        `table_id=${table}`,
        `priority=${priority}`,
        `match=${JSON.stringify(match)}`,
        `actions=${JSON.stringify(actions)}`,
        `external_ids:stage-name=st${table}`,
      );
    await lflow8('ingress', 0, 10, 'ip4.dst == 10.0.0.1', 'clone { outport = "q2"; output; }; outport = "q1"; flags.loopback = 1; output;');
    await lflow8('ingress', 0, 10, 'ip4.dst == 10.0.0.2', 'ct_commit { ct_label.blocked = 1; }; ct_clear; next;');
    await lflow8('ingress', 0, 10, 'ip4.dst == 10.0.0.3', 'ct_next;');
    await lflow8('ingress', 1, 10, 'ct.trk', 'drop;');
    await lflow8(
      'ingress',
      1,
      5,
      '1',
      'ip.ttl--; eth.dst = eth.src; ip4.src = 1.2.3.4; reg0 = ip4.dst; ip4.dst = reg0; next(pipeline=egress, table=1);',
    );
    await lflow8('egress', 0, 0, '1', 'output;');
    await lflow8('egress', 1, 0, '1', 'outport = "q2"; output;');
    for (const flow of [
      'inport == "q1" && ip4.dst == 10.0.0.1 && ip.ttl == 5',
      'inport == "q1" && ip4.dst == 10.0.0.2 && ip.ttl == 5',
      'inport == "q1" && ip4.dst == 10.0.0.3 && ip.ttl == 5',
    ]) {
      for (const format of ['--detailed', '--summary', '--minimal']) {
        const args = [`--db=${hand.sbRemote}`, format, 'ls8', flow];
        const real = await run('ovn-trace', args);
        const ours = await run(OVNTS, ['trace', ...args]);
        assert.equal(ours.stdout, real.stdout, `ovn-trace ${args.join(' ')}`);
      }
    }
    for (const flow of [
      'inport == "p1" && ip4.dst == 10.0.0.3',
      'inport == "p1" && arp',
      'inport == "p1" && ip4.dst == 10.0.0.2',
      'inport == "p1" && ip4.dst == 10.0.0.9',
      'inport == "p1" && ip4.dst == 10.0.0.8',
    ]) {
      for (const format of ['--detailed', '--summary', '--minimal']) {
        const args = [`--db=${hand.sbRemote}`, format, 'ls9', flow];
        const real = await run('ovn-trace', args);
        const ours = await run(OVNTS, ['trace', ...args]);
        assert.equal(ours.stdout, real.stdout, `ovn-trace ${args.join(' ')}`);
        assert.equal(ours.code, real.code);
      }
    }
  } finally {
    await hand.stop();
    dir.cleanup();
  }
});

test('the database defaults to $OVN_SB_DB', async () => {
  const args = ['--minimal', 'dmz', `${eth(C51, C52.mac)} && ip4.src == ${C51.ip} && ip4.dst == ${C52.ip} && ip.ttl == 64`];
  const ours = await run(OVNTS, ['trace', ...args], { env: { OVN_SB_DB: dbs.sbRemote } });
  const real = await run('ovn-trace', args, { env: { OVN_SB_DB: dbs.sbRemote } });
  assert.equal(ours.code, 0, ours.stderr);
  assert.equal(ours.stdout, real.stdout);
  assert.match(ours.stdout, /output\("dmz-c52"\);/);
});

test('unknown inport: the same warnings (ovn-trace then aborts; ovnts exits 1)', async () => {
  const args = [`--db=${dbs.sbRemote}`, 'dmz', 'inport == "nope" && ip4'];
  const real = await run('ovn-trace', args);
  const ours = await run(OVNTS, ['trace', ...args]);
  assert.deepEqual(warnings(ours.stderr), warnings(real.stderr));
  assert.deepEqual(warnings(ours.stderr), [
    'ovntrace|WARN|nope: unknown logical port',
    'ovntrace|WARN|microflow does not specify ingress port',
  ]);
  assert.equal(ours.stdout, '');
  assert.equal(ours.code, 1);
});

test('usage errors as ovn-trace words them', async () => {
  const none = await run(OVNTS, ['trace', `--db=${dbs.sbRemote}`]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /one or two non-option arguments are required \(use --help for help\)/);
  const bad = await run(OVNTS, ['trace', `--db=${dbs.sbRemote}`, '--ct=bogus', 'dmz', 'inport == "dmz-c51"']);
  const realBad = await run('ovn-trace', [`--db=${dbs.sbRemote}`, '--ct=bogus', 'dmz', 'inport == "dmz-c51"']);
  assert.equal(bad.code, realBad.code);
  assert.equal(bad.stderr.replace(/^ovnts trace: /, ''), realBad.stderr.replace(/^ovn-trace: /, ''));
  for (const args of [['--bogus', 'dmz', 'x'], ['--db']]) {
    const o = await run(OVNTS, ['trace', ...args]);
    const r = await run('ovn-trace', args);
    assert.equal(o.code, r.code, args.join(' '));
    assert.equal(o.stderr.replace(/^ovnts trace: /, ''), r.stderr.replace(/^ovn-trace: /, ''), args.join(' '));
  }
  const nodb = await run(OVNTS, ['trace', '--db=unix:/nonexistent/sb.sock', 'dmz', 'inport == "dmz-c51"']);
  const realNodb = await run('ovn-trace', ['--db=unix:/nonexistent/sb.sock', 'dmz', 'inport == "dmz-c51"']);
  assert.equal(nodb.code, realNodb.code);
  assert.equal(nodb.stderr.replace(/^ovnts trace: /, ''), realNodb.stderr.replace(/^ovn-trace: /, ''));
});
