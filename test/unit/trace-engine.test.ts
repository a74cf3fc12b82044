/**
 * The trace engine on a small hand-made Southbound snapshot: table walk with
 * next(N) and the silent default flows, multicast branches (the inport
 * omitted), field exchanges and TTL in --minimal, --ct states, a patch port
 * into a router with its registers cleared, and the three output formats'
 * layout (conventions recorded from the real ovn-trace; the compat test checks
 * them live on the seed lab).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCtFlags, trace, type SbSnapshot } from '../../src/trace/index.js';

let n = 0;
const uuid = (): string => `${(++n).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
const ids = (stage: string): Map<string, string> => new Map([['stage-name', stage]]);

function flow(
  dp: string,
  pipeline: 'ingress' | 'egress',
  table: number,
  priority: number,
  match: string,
  actions: string,
): SbSnapshot['flows'][number] {
  return {
    _uuid: uuid(),
    logical_datapath: dp,
    logical_dp_group: null,
    pipeline,
    table_id: table,
    priority,
    match,
    actions,
    external_ids: ids(`${pipeline === 'ingress' ? 'in' : 'out'}_t${table}`),
  };
}

const LS = 'aaaaaaaa-0000-4000-8000-000000000001';
const LR = 'aaaaaaaa-0000-4000-8000-000000000002';
const port = (name: string, dp: string, key: number, type = '', peer?: string, ps: string[] = []): SbSnapshot['ports'][number] => ({
  _uuid: uuid(),
  logical_port: name,
  datapath: dp,
  tunnel_key: key,
  type,
  options: new Map(peer === undefined ? [] : [['peer', peer]]),
  port_security: ps,
  mac: [],
});
const PORTS = [
  port('b', LS, 2),
  port('a', LS, 1, '', undefined, ['00:00:00:00:00:0a 10.0.0.10']),
  port('r', LS, 3, 'patch', 'rp'),
  port('rp', LR, 1, 'patch', 'r'),
];

const SNAP: SbSnapshot = {
  datapaths: [
    { _uuid: LS, external_ids: new Map([['name', 'ls1']]), tunnel_key: 1 },
    { _uuid: LR, external_ids: new Map([['name', 'lr1']]), tunnel_key: 2 },
  ],
  ports: PORTS,
  flows: [
    flow(LS, 'ingress', 0, 100, 'inport == "a"', 'reg0[0] = 1; reg0[15] = check_in_port_sec(); next(2);'),
    flow(LS, 'ingress', 0, 90, 'inport == "b"', 'ct_next;'),
    flow(LS, 'ingress', 0, 0, '1', 'next;'),
    flow(LS, 'ingress', 1, 10, 'ct.new', 'outport = "a"; output;'),
    flow(LS, 'ingress', 1, 0, '1', 'drop;'),
    flow(LS, 'ingress', 2, 60, 'reg0[15] == 1', 'drop;'),
    flow(LS, 'ingress', 2, 50, 'eth.dst == 00:00:00:00:00:0b', 'outport = "b"; output;'),
    flow(LS, 'ingress', 2, 50, 'eth.mcast', 'outport = "_MC_flood"; output;'),
    flow(LS, 'ingress', 2, 45, 'eth.dst == 00:00:00:00:00:0c', 'outport = "r"; output;'),
    flow(
      LS,
      'ingress',
      2,
      40,
      'ip4.dst == 10.0.0.1',
      'eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl--; outport = inport; flags.loopback = 1; output;',
    ),
    flow(LS, 'egress', 0, 0, '1', 'next;'),
    flow(LS, 'egress', 1, 0, '1', 'output;'),
    flow(LR, 'ingress', 0, 10, 'reg0[0] == 1', 'drop;'),
    flow(LR, 'ingress', 0, 5, '1', 'reg1 = 5; next;'),
  ],
  dpGroups: [],
  multicastGroups: [{ _uuid: uuid(), datapath: LS, name: '_MC_flood', ports: PORTS.filter((p) => p.datapath === LS).map((p) => p._uuid) }],
  macBindings: [],
  addressSets: [],
  portGroups: [],
};

const A = 'inport == "a" && eth.src == 00:00:00:00:00:0a && ip4.src == 10.0.0.10 && ip.ttl == 64';

test('unicast: next(N) skips a table (and is left out of --summary), silent default flows, egress and output', () => {
  const out = trace(SNAP, {
    datapath: 'ls1',
    microflow: `${A} && eth.dst == 00:00:00:00:00:0b && ip4.dst == 10.0.0.11`,
    format: 'summary',
  });
  assert.equal(
    out.stdout,
    `# ip,reg14=0x1,vlan_tci=0x0000,dl_src=00:00:00:00:00:0a,dl_dst=00:00:00:00:00:0b,nw_src=10.0.0.10,nw_dst=10.0.0.11,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no
ingress(dp="ls1", inport="a") {
    reg0[0] = 1;
    reg0[15] = check_in_port_sec();
    outport = "b";
    output;
    egress(dp="ls1", inport="a", outport="b") {
        output;
        /* output to "b", type "" */;
    };
};
`,
  );
});

test('port security violation drops (--minimal prints only the flow line)', () => {
  const out = trace(SNAP, {
    datapath: 'ls1',
    microflow: `${A.replace('10.0.0.10', '10.0.0.99')} && eth.dst == 00:00:00:00:00:0b`,
    format: 'minimal',
  });
  assert.equal(out.stdout.split('\n').length, 2);
  const detailed = trace(SNAP, {
    datapath: 'ls1',
    microflow: `${A.replace('10.0.0.10', '10.0.0.99')} && eth.dst == 00:00:00:00:00:0b`,
    format: 'detailed',
  });
  assert.match(detailed.stdout, / 2\. in_t2: reg0\[15\] == 1, priority 60, uuid [0-9a-f]{8}\n {4}drop;\n$/);
});

test('multicast: one branch per member, the inport omitted, branches indented (--detailed, --minimal)', () => {
  const flow = `${A} && eth.dst == ff:ff:ff:ff:ff:ff && ip4.dst == 10.0.0.255`;
  assert.equal(
    trace(SNAP, { datapath: 'ls1', microflow: flow, format: 'minimal' }).stdout.split('\n').slice(1).join('\n'),
    'output("b");\n',
  );
  const d = trace(SNAP, { datapath: 'ls1', microflow: flow, format: 'detailed' }).stdout;
  assert.match(
    d,
    /\nmulticast\(dp="ls1", mcgroup="_MC_flood"\)\n-{40}\n\n {4}egress\(dp="ls1", inport="a", outport="a"\)\n {4}-+\n {12}\/\* omitting output because inport == outport && !flags.loopback \*\/\n\n {4}egress\(dp="ls1", inport="a", outport="b"\)\n {4}-+\n {9}1\. out_t1: 1, priority 0, uuid [0-9a-f]{8}\n {12}output;\n {12}\/\* output to "b", type "" \*\/\n\n {4}egress\(dp="ls1", inport="a", outport="r"\)\n/,
  );
});

test('exchanges, TTL and loopback: --minimal shows the new values', () => {
  const out = trace(SNAP, { datapath: 'ls1', microflow: `${A} && eth.dst == 00:00:00:00:00:01 && ip4.dst == 10.0.0.1`, format: 'minimal' });
  assert.equal(
    out.stdout.split('\n').slice(1).join('\n'),
    `eth.dst = 00:00:00:00:00:0a;
eth.src = 00:00:00:00:00:01;
ip4.dst = 10.0.0.10;
ip4.src = 10.0.0.1;
ip.ttl--;
output("a");
`,
  );
});

test('--ct states are used in order; the default is est|trk', () => {
  const flow = 'inport == "b" && eth.src == 00:00:00:00:00:0b';
  assert.equal(
    trace(SNAP, { datapath: 'ls1', microflow: flow, format: 'minimal', ct: [parseCtFlags('new')] })
      .stdout.split('\n')
      .slice(1)
      .join('\n'),
    'ct_next(ct_state=new|trk) {\n    output("a");\n};\n',
  );
  assert.equal(
    trace(SNAP, { datapath: 'ls1', microflow: flow, format: 'summary' }).stdout.split('\n').slice(1).join('\n'),
    'ingress(dp="ls1", inport="b") {\n    ct_next;\n    ct_next(ct_state=est|trk /* default (use --ct to customize) */) {\n        drop;\n    };\n};\n',
  );
  assert.throws(() => parseCtFlags('bogus'), /bogus: unknown connection tracking state flag/);
  assert.equal(parseCtFlags('new,est'), 0b100011);
});

test("patch port: the peer datapath's ingress, with the switch's registers cleared", () => {
  const out = trace(SNAP, { datapath: 'ls1', microflow: `${A} && eth.dst == 00:00:00:00:00:0c`, format: 'detailed' }).stdout;
  assert.match(
    out,
    /\/\* output to "r", type "patch" \*\/\n\ningress\(dp="lr1", inport="rp"\)\n-+\n 0\. in_t0: 1, priority 5, uuid [0-9a-f]{8}\n {4}reg1 = 5;\n {4}next;\n 1\. no match \(implicit drop\)\n$/,
  );
});

test('errors: unknown datapath, bad microflow, unknown or missing inport', () => {
  assert.deepEqual(trace(SNAP, { datapath: 'nope', microflow: A, format: 'minimal' }), {
    stdout: 'unknown datapath "nope"\n',
    warnings: [],
    ok: true,
  });
  assert.equal(
    trace(SNAP, { datapath: 'ls1', microflow: 'inport ==', format: 'minimal' }).stdout,
    'error parsing flow: Syntax error at end of input expecting constant.\n',
  );
  assert.deepEqual(trace(SNAP, { datapath: 'ls1', microflow: 'inport == "zz"', format: 'minimal' }), {
    stdout: '',
    warnings: ['zz: unknown logical port', 'microflow does not specify ingress port'],
    ok: false,
  });
  assert.deepEqual(trace(SNAP, { microflow: 'eth.src == 00:00:00:00:00:0a', format: 'minimal' }).warnings, [
    'microflow does not specify ingress port',
  ]);
  // Without DATAPATH, the inport's datapath.
  assert.match(trace(SNAP, { microflow: `${A} && eth.dst == 00:00:00:00:00:0b`, format: 'minimal' }).stdout, /\noutput\("b"\);\n$/);
});

test('impossible --ct states are named as ovn-trace names them', async () => {
  const { ctStateProblem } = await import('../../src/trace/index.js');
  assert.equal(ctStateProblem(parseCtFlags('new,est')), 'new|est|trk: invalid connection state: "new" and "est" are mutually exclusive');
  assert.equal(ctStateProblem(parseCtFlags('new,rpl')), 'new|rpl|trk: invalid connection state: "new" and "rpy" are mutually exclusive');
  assert.equal(
    ctStateProblem(parseCtFlags('inv,est')),
    'est|inv|trk: invalid connection state: when "inv" is set, only "trk" may also be set',
  );
  assert.equal(ctStateProblem(parseCtFlags('est,rel')), undefined);
  assert.equal(ctStateProblem(parseCtFlags('inv')), undefined);
});
