/**
 * The page's topology model from NB and SB rows (src/ui/topology.ts): ports
 * nested under their parent with their tags, switch subnets from
 * other_config, DHCP options and router ports, router links, chassis and the
 * ports bound on them, the states; and the trace path's verdicts
 * (src/ui/trace-path.ts) from hand-made trace trees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTopology, type NbRows, type SbRows } from '../../src/ui/topology.js';
import { tracePath } from '../../src/ui/trace-path.js';
import type { TraceNode, TraceTree } from '../../src/trace/index.js';
import type * as nb from '../../src/ovsdb/models/ovn-nb.js';

function lsp(uuid: string, name: string, extra: Partial<nb.Logical_Switch_Port> = {}): nb.Logical_Switch_Port {
  return {
    _uuid: uuid,
    name,
    type: '',
    addresses: [],
    dynamic_addresses: null,
    parent_name: null,
    tag: null,
    tag_request: null,
    options: new Map(),
    up: null,
    enabled: null,
    dhcpv4_options: null,
    ...extra,
  } as nb.Logical_Switch_Port;
}

const NB: NbRows = {
  switches: [
    { _uuid: 'ls1', name: 'dmz', ports: ['p-r', 'p-vm', 'p-c1', 'p-c2'], other_config: new Map() },
    { _uuid: 'ls2', name: 'inside', ports: ['p-x', 'p-orphan'], other_config: new Map([['subnet', '192.0.2.0/25']]) },
  ] as unknown as nb.Logical_Switch[],
  switchPorts: [
    lsp('p-r', 'dmz-r', { type: 'router', addresses: ['router'], options: new Map([['router-port', 'r-dmz']]), up: true }),
    lsp('p-vm', 'vm', { addresses: ['02:00:00:00:00:01 198.51.100.10'], up: true, dhcpv4_options: 'd1' }),
    lsp('p-c2', 'c2', { addresses: ['02:00:00:00:00:03 198.51.100.12'], parent_name: 'vm', tag: 52, up: false }),
    lsp('p-c1', 'c1', {
      addresses: ['dynamic'],
      dynamic_addresses: '02:00:00:00:00:02 198.51.100.11',
      parent_name: 'vm',
      tag: 51,
      up: true,
    }),
    lsp('p-x', 'x', { enabled: false }),
    // A parent on another switch: the port stays at its switch's top level.
    lsp('p-orphan', 'orphan', { parent_name: 'vm', tag: 7 }),
  ],
  routers: [{ _uuid: 'lr1', name: 'r', ports: ['rp1'] }] as unknown as nb.Logical_Router[],
  routerPorts: [
    { _uuid: 'rp1', name: 'r-dmz', mac: '02:00:00:00:00:ff', networks: ['198.51.100.1/24'], peer: null },
  ] as unknown as nb.Logical_Router_Port[],
  dhcpOptions: [{ _uuid: 'd1', cidr: '198.51.100.0/24' }] as unknown as nb.DHCP_Options[],
};

const SB: SbRows = {
  chassis: [
    { _uuid: 'ch1', name: 'hv1', hostname: 'host-1' },
    { _uuid: 'ch2', name: 'hv2', hostname: 'host-2' },
  ],
  bindings: [
    { _uuid: 'b1', logical_port: 'vm', chassis: 'ch1', up: true },
    { _uuid: 'b2', logical_port: 'c1', chassis: 'ch1', up: true },
    { _uuid: 'b3', logical_port: 'c2', chassis: 'ch1', up: false },
    { _uuid: 'b4', logical_port: 'dmz-r', chassis: null, up: null },
  ],
} as unknown as SbRows;

test('ports nest under their parent with tags; subnets, links, chassis and states', () => {
  const t = buildTopology(NB, SB);
  assert.deepEqual(
    t.switches.map((s) => [s.name, s.subnets, s.ports.map((p) => p.name)]),
    [
      ['dmz', ['198.51.100.0/24'], ['dmz-r', 'vm']],
      ['inside', ['192.0.2.0/25'], ['orphan', 'x']],
    ],
  );
  const vm = t.switches[0]!.ports[1]!;
  assert.deepEqual(
    vm.children.map((c) => [c.name, c.tag, c.parent, c.macs, c.ips, c.chassis, c.up, c.installed]),
    [
      ['c1', 51, 'vm', ['02:00:00:00:00:02'], ['198.51.100.11'], 'hv1', true, true],
      ['c2', 52, 'vm', ['02:00:00:00:00:03'], ['198.51.100.12'], 'hv1', false, false],
    ],
  );
  assert.equal(t.switches[1]!.ports[0]!.parent, 'vm');
  assert.equal(t.switches[1]!.ports[1]!.enabled, false);
  assert.equal(t.switches[0]!.ports[0]!.routerPort, 'r-dmz');
  assert.deepEqual(t.links, [{ switchName: 'dmz', switchPort: 'dmz-r', routerName: 'r', routerPort: 'r-dmz' }]);
  assert.deepEqual(t.routers, [
    { name: 'r', ports: [{ name: 'r-dmz', mac: '02:00:00:00:00:ff', networks: ['198.51.100.1/24'], peer: undefined }] },
  ]);
  assert.deepEqual(t.chassis, [
    { name: 'hv1', hostname: 'host-1', ports: ['c1', 'c2', 'vm'] },
    { name: 'hv2', hostname: 'host-2', ports: [] },
  ]);
});

const node = (type: TraceNode['type'], name: string, subs: TraceNode[] = []): TraceNode => ({
  type,
  name,
  alwaysIndent: false,
  semicolon: true,
  subs,
});
const tree = (nodes: TraceNode[]): TraceTree => ({ head: '# ip', nodes, problem: undefined, warnings: [], ok: true });

test('trace path: sections in walk order, output ports, and why a packet is dropped', () => {
  const out = tracePath(
    'm',
    tree([
      node('pipeline', 'ingress(dp="sw", inport="a")', [
        node('table', ' 0. ls_in_check_port_sec (northd.c:1): 1, priority 50, uuid 1', [node('action', 'next;')]),
        node('table', '25. ls_in_l2_lkup: eth.dst == 02:00:00:00:00:02, priority 50, uuid 2', [
          node('action', 'outport = "b";'),
          node('action', 'output;'),
          node('pipeline', 'egress(dp="sw", inport="a", outport="b")', [
            node('table', ' 9. ls_out_apply_port_sec: 1, priority 0, uuid 3', [
              node('action', 'output;'),
              node('action', '/* output to "b", type "" */'),
              node('output', 'output("b")'),
            ]),
          ]),
        ]),
      ]),
    ]),
  );
  assert.deepEqual(
    out.sections.map((s) => [s.title, s.datapath, s.depth, s.steps.map((x) => [x.table, x.stage])]),
    [
      [
        'ingress(dp="sw", inport="a")',
        'sw',
        0,
        [
          [0, 'ls_in_check_port_sec'],
          [25, 'ls_in_l2_lkup'],
        ],
      ],
      ['egress(dp="sw", inport="a", outport="b")', 'sw', 1, [[9, 'ls_out_apply_port_sec']]],
    ],
  );
  assert.deepEqual(out.verdict, { kind: 'output', outports: ['b'], reason: undefined });

  const dropped = tracePath(
    'm',
    tree([
      node('pipeline', 'ingress(dp="sw", inport="a")', [
        node('table', ' 1. ls_in_apply_port_sec: reg0[15] == 1, priority 50, uuid 4', [node('action', 'drop;')]),
      ]),
    ]),
  );
  assert.deepEqual(dropped.verdict, {
    kind: 'drop',
    outports: [],
    reason: '1. ls_in_apply_port_sec: reg0[15] == 1, priority 50, uuid 4 → drop;',
  });
  const implicit = tracePath(
    'm',
    tree([node('pipeline', 'ingress(dp="sw", inport="a")', [node('table', ' 3. no match (implicit drop)')])]),
  );
  assert.equal(implicit.verdict?.reason, '3. no match (implicit drop)');
  const none = tracePath('m', { head: '', nodes: [], problem: 'error parsing flow: x', warnings: [], ok: true });
  assert.equal(none.verdict, undefined);
  assert.equal(none.detailed, 'error parsing flow: x\n');
});
