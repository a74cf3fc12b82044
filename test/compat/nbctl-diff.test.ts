/**
 * Differential corpus: every line runs through the real `ovn-nbctl` against one
 * server and through `ovnts nbctl` against another server of the same kind in
 * the same state (built by the group's setup lines, run with the real tool on
 * both). stdout, stderr and exit status must match (UUIDs normalised, records
 * and `show` blocks sorted UUID-blind), and afterwards both databases must hold
 * the same rows. The corpus runs once on real ovsdb-servers and once on ovnts ones.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { OVNTS, startServer, type RunningServer, type ServerKind } from '../helpers/ovsdb-servers.js';
import { normalizeUuids } from '../helpers/normalize.js';

interface Outcome {
  stdout: string;
  stderr: string;
  code: number;
}

function exec(cmd: string, args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, OVN_NB_DB: '' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : err.signal === 'SIGALRM' ? 142 : 1;
      resolve({ stdout, stderr, code });
    });
  });
}

const realNbctl = (remote: string, args: string[]): Promise<Outcome> => exec('ovn-nbctl', [`--db=${remote}`, ...args]);
const ovntsNbctl = (remote: string, args: string[]): Promise<Outcome> =>
  exec(process.execPath, [OVNTS, 'nbctl', `--db=${remote}`, ...args]);

const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const blind = (s: string): string => s.replace(UUID_G, 'U');
const byBlind = (a: string, b: string): number => (blind(a) < blind(b) ? -1 : blind(a) > blind(b) ? 1 : 0);

/** Records (list/find) and show blocks come in hash order: sort them UUID-blind, then number the UUIDs. */
export function stableOutput(out: string): string {
  const text = out.trimEnd();
  if (text.includes('\n\n') && !text.includes('Routes\n')) return normalizeUuids(text.split('\n\n').sort(byBlind).join('\n\n'));
  if (/^(switch|router) /.test(text)) {
    const blocks = text.split(/\n(?=\S)/).map((block) => {
      const [head, ...children] = block.split(/\n(?= {4}\S)/);
      return [head, ...children.sort(byBlind)].join('\n');
    });
    return normalizeUuids(blocks.sort(byBlind).join('\n'));
  }
  if (/^\{"data":/.test(text)) {
    const j = JSON.parse(text) as { data: unknown[]; headings: string[] };
    j.data.sort((a, b) => byBlind(JSON.stringify(a), JSON.stringify(b)));
    return normalizeUuids(JSON.stringify(j));
  }
  const lines = text.split('\n');
  // Table / csv output: keep heading lines, sort the rest.
  if (lines.length > 2 && /^-+( -+)*$/.test(lines[1] ?? ''))
    return normalizeUuids([...lines.slice(0, 2), ...lines.slice(2).sort(byBlind)].join('\n'));
  return normalizeUuids(lines.sort(byBlind).join('\n'));
}

const stableErr = (s: string): string => normalizeUuids(s.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|\d+\|/gm, 'TS|'));

const STATE_TABLES = [
  'NB_Global',
  'Logical_Switch',
  'Logical_Switch_Port',
  'Logical_Router',
  'Logical_Router_Port',
  'ACL',
  'DHCP_Options',
  'Port_Group',
  'Logical_Router_Static_Route',
];

async function state(remote: string): Promise<string> {
  const parts: string[] = [];
  for (const t of STATE_TABLES) {
    const r = await realNbctl(remote, ['--no-wait', 'list', t]);
    parts.push(`${t}\n${blind(r.stdout).trimEnd().split('\n\n').sort().join('\n\n')}`);
  }
  return parts.join('\n');
}

const DHCP_OPTS = 'options="lease_time"="3600" "router"="172.16.255.129" "server_id"="172.16.255.129" "server_mac"="02:ac:10:ff:01:29"';

/** The seed lab's setup, as seed 000 gives it (with a router, as the lab has). */
const SEED_SETUP: string[][] = [
  ['create', 'DHCP_Options', 'cidr=172.16.255.128/26', DHCP_OPTS],
  ['lr-add', 'tenant1'],
  ['lrp-add', 'tenant1', 'tenant1-dmz', '02:ac:10:ff:01:29', '172.16.255.129/26'],
  ['ls-add', 'dmz'],
  ['lsp-add', 'dmz', 'dmz-tenant1'],
  ['lsp-set-type', 'dmz-tenant1', 'router'],
  ['lsp-set-addresses', 'dmz-tenant1', '02:ac:10:ff:01:29'],
  ['lsp-set-options', 'dmz-tenant1', 'router-port=tenant1-dmz'],
];

interface Group {
  name: string;
  setup: string[][];
  cases: string[][];
}

const GROUPS: Group[] = [
  {
    name: 'seed 000 and 003 lines',
    setup: SEED_SETUP,
    cases: [
      ['list', 'DHCP_Options'],
      ['lsp-add', 'dmz', 'dmz-vm5'],
      ['lsp-set-addresses', 'dmz-vm5', '02:ac:10:ff:01:32 172.16.255.132'],
      ['lsp-set-port-security', 'dmz-vm5', '02:ac:10:ff:01:32 172.16.255.132'],
      ['lsp-set-dhcpv4-options', 'dmz-vm5', '{dhcp}'],
      ['lsp-add', 'dmz', 'dmz-c51'],
      ['lsp-set-addresses', 'dmz-c51', '02:ac:10:ff:01:33 172.16.255.133'],
      ['lsp-set-port-security', 'dmz-c51', '02:ac:10:ff:01:33 172.16.255.133'],
      ['lsp-set-dhcpv4-options', 'dmz-c51', '{dhcp}'],
      ['set', 'Logical_Switch_Port', 'dmz-c51', 'parent_name=dmz-vm5'],
      ['set', 'Logical_Switch_Port', 'dmz-c51', 'tag=51'],
      ['lsp-add', 'dmz', 'dmz-c52'],
      ['lsp-set-addresses', 'dmz-c52', '02:ac:10:ff:01:34 172.16.255.134'],
      ['lsp-set-port-security', 'dmz-c52', '02:ac:10:ff:01:34 172.16.255.134'],
      ['lsp-set-dhcpv4-options', 'dmz-c52', '{dhcp}'],
      ['set', 'Logical_Switch_Port', 'dmz-c52', 'parent_name=dmz-vm5'],
      ['set', 'Logical_Switch_Port', 'dmz-c52', 'tag=52'],
      ['find', 'Logical_Switch_Port', 'name="dmz-c51"'],
      ['lsp-get-parent', 'dmz-c51'],
      ['lsp-get-tag', 'dmz-c51'],
      ['lsp-add', 'dmz', 'c0c29381-c945-4507-922a-cb87f76c4581'],
      ['lsp-add', 'dmz', 'be155d07-ecd9-4ad7-91e5-5be60684572a', 'c0c29381-c945-4507-922a-cb87f76c4581', '42'],
      ['lsp-get-parent', 'be155d07-ecd9-4ad7-91e5-5be60684572a'],
      ['lsp-get-tag', 'be155d07-ecd9-4ad7-91e5-5be60684572a'],
      ['lsp-get-dhcpv4-options', 'dmz-vm5'],
      ['show'],
      ['show', 'dmz'],
      ['show', 'tenant1'],
      ['lsp-list', 'dmz'],
      ['ls-list'],
      ['lr-list'],
      ['lrp-list', 'tenant1'],
    ],
  },
  {
    name: 'global options and formats',
    setup: [
      ...SEED_SETUP,
      ['lsp-add', 'dmz', 'p1'],
      ['lsp-add', 'dmz', 'p2', 'p1', '7'],
      ['lsp-set-addresses', 'p1', '00:00:00:00:00:01 10.0.0.1'],
      ['set', 'Logical_Switch_Port', 'p1', 'external_ids={a=b, c="d e", f="x,y"}'],
    ],
    cases: [
      ['list', 'Logical_Switch_Port'],
      ['--format=table', 'list', 'Logical_Switch_Port'],
      ['-f', 'table', '--columns=name,tag_request,parent_name', 'list', 'Logical_Switch_Port'],
      ['--format=csv', 'list', 'Logical_Switch_Port'],
      ['--format=csv', '--no-headings', '--columns=name,external_ids', 'list', 'Logical_Switch_Port'],
      ['--format=json', 'list', 'Logical_Switch_Port'],
      ['--format=json', '--columns=name,external_ids', 'list', 'Logical_Switch_Port'],
      ['--format=json', '--data=string', '--columns=name,external_ids', 'list', 'Logical_Switch_Port'],
      ['--format=table', '--data=json', 'list', 'Logical_Switch'],
      ['--format=table', '--data=bare', '--columns=name,external_ids', 'list', 'Logical_Switch_Port'],
      ['--bare', '--columns=name', 'list', 'Logical_Switch_Port'],
      ['--bare', '--columns=name', 'find', 'Logical_Switch_Port', 'name=p1'],
      ['--data=bare', 'list', 'Logical_Switch_Port', 'p1'],
      ['--no-headings', '-f', 'table', 'list', 'Logical_Switch'],
      ['--columns=name', 'list', 'logical_switch_port', 'p1'],
      ['--columns=NAME,Tag_Req', 'list', 'Logical_Switch_Port', 'p2'],
      ['--oneline', 'lsp-list', 'dmz', '--', 'ls-list'],
      ['--oneline', 'lsp-get-addresses', 'p1'],
      ['ls-list', '--', 'lr-list', '--', 'lsp-list', 'dmz'],
      ['--id=@ls', 'get', 'Logical_Switch', 'dmz', '_uuid', '--', 'lsp-get-tag', 'p2'],
      ['--timeout=10', 'ls-list'],
      ['-t', '10', 'lr-list'],
      ['--no-wait', 'ls-add', 'nw1'],
      ['--wait=none', 'ls-add', 'nw2'],
      ['--no-wait', '-f', 'csv', 'list', 'NB_Global'],
      ['--may-exist', 'ls-add', 'dmz'],
      ['--if-exists', 'lsp-del', 'nope'],
      ['--if-exists', 'get', 'Logical_Switch', 'nope', 'name'],
      ['--if-exists', 'list', 'Logical_Switch', 'nope'],
      ['ls-add', 'j1', '--', 'lsp-add', 'j1', 'j1p1', '--', 'lsp-add', 'j1', 'j1p2'],
      ['lsp-list', 'j1'],
      ['ls-add', 'j2', '--', 'ls-add', 'j2'],
      ['ls-list'],
      ['get', 'Logical_Switch_Port', 'p1', 'external_ids:c', 'external_ids:a', 'addresses'],
      ['get', 'logical_switch_port', 'p1', 'NAME', 'ext'],
      // Errors in options.
      ['--bogus', 'ls-list'],
      ['--format=xml', 'ls-list'],
      ['--data=xx', 'ls-list'],
      ['--timeout=x', 'ls-list'],
      ['--db'],
      ['--if-exists', 'ls-list'],
      ['--may-exist', '--if-exists', 'ls-add', 'z3'],
      ['--may-exist', 'ls-add', 'dmz', '--', '--may-exist', 'ls-add', 'dmz'],
      ['bogus'],
      ['ls-list', 'extra'],
      ['ls-add', 'a', 'b'],
      ['lsp-del'],
    ],
  },
  {
    name: 'database commands',
    setup: [
      ...SEED_SETUP,
      ['lsp-add', 'dmz', 'p1'],
      ['lsp-add', 'dmz', 'p2', 'p1', '7'],
      ['lsp-add', 'dmz', 'p3', 'p1', '9'],
      ['set', 'Logical_Switch_Port', 'p2', 'tag=7', 'external_ids:k=v'],
      ['set', 'Logical_Switch_Port', 'p3', 'tag=9', 'addresses=[a, b]'],
    ],
    cases: [
      ['find', 'Logical_Switch_Port', 'tag=7'],
      ['find', 'Logical_Switch_Port', 'tag!=7'],
      ['find', 'Logical_Switch_Port', 'tag<9'],
      ['find', 'Logical_Switch_Port', 'tag>7'],
      ['find', 'Logical_Switch_Port', 'tag<=9'],
      ['find', 'Logical_Switch_Port', 'tag>=9'],
      ['find', 'Logical_Switch_Port', 'tag_request>=0', 'tag_request<=8'],
      ['find', 'Logical_Switch_Port', 'addresses{=}[a,b]'],
      ['find', 'Logical_Switch_Port', 'addresses{!=}[a,b]'],
      ['find', 'Logical_Switch_Port', 'addresses{<}[a,b,c]'],
      ['find', 'Logical_Switch_Port', 'addresses{>}[a]'],
      ['find', 'Logical_Switch_Port', 'addresses{<=}[a,b]'],
      ['find', 'Logical_Switch_Port', 'addresses{>=}[b]'],
      ['find', 'Logical_Switch_Port', 'addresses{in}[a,b,c]'],
      ['find', 'Logical_Switch_Port', 'addresses{not-in}[a]'],
      ['find', 'Logical_Switch_Port', 'external_ids:k=v'],
      ['find', 'Logical_Switch_Port', 'external_ids:k!=v'],
      ['find', 'Logical_Switch_Port', 'external_ids{>=}{k=v}'],
      ['find', 'Logical_Switch_Port', 'name=p1', 'type=""'],
      ['--columns=name', 'find', 'Logical_Switch_Port', 'parent_name=p1'],
      ['find', 'Logical_Switch_Port', 'name'],
      ['find', 'Logical_Switch_Port', 'nope=1'],
      ['find', 'Nope', 'name=1'],
      ['get', 'Logical_Switch_Port', 'p2', 'tag', 'parent_name', 'addresses', 'external_ids', '_uuid'],
      ['get', 'Logical_Switch_Port', 'p2', 'external_ids:nope'],
      ['--if-exists', 'get', 'Logical_Switch_Port', 'p2', 'external_ids:nope'],
      ['get', 'Logical_Switch_Port', 'p2', 'nope'],
      ['get', 'Logical_Switch', 'nope', 'name'],
      ['set', 'Logical_Switch_Port', 'p1', 'addresses="00:00:00:00:00:01 10.0.0.1"', 'options:x=y:z', 'enabled=false'],
      ['get', 'Logical_Switch_Port', 'p1', 'addresses', 'options', 'enabled'],
      ['set', 'Logical_Switch_Port', 'p1', 'addresses=[a, b c]'],
      ['set', 'Logical_Switch_Port', 'p1', 'external_ids={a=b, c="d e"}'],
      ['set', 'Logical_Switch_Port', 'p1', 'external_ids=a=b c=d'],
      ['get', 'Logical_Switch_Port', 'p1', 'external_ids'],
      ['set', 'Logical_Switch_Port', 'p1', 'addresses=00:00:00:00:00:01'],
      ['set', 'Logical_Switch_Port', 'p1', 'tag=abc'],
      ['set', 'Logical_Switch_Port', 'p1', 'tag=5000'],
      ['set', 'Logical_Switch_Port', 'p1', 'tag=[1,2]'],
      ['set', 'Logical_Switch_Port', 'p1', 'addresses="unterminated'],
      ['set', 'Logical_Switch_Port', 'p1', 'addresses=[a'],
      ['set', 'Logical_Switch_Port', 'p1', 'addresses=a]'],
      ['set', 'Logical_Switch_Port', 'p1', 'external_ids={a=b'],
      ['set', 'Logical_Switch_Port', 'p1', 'external_ids={a=b,a=c}'],
      ['set', 'Logical_Switch_Port', 'p1', 'addresses=[a,a]'],
      ['set', 'Logical_Switch_Port', 'p1', 'name'],
      ['set', 'Logical_Switch_Port', 'p1', 'name='],
      ['set', 'Logical_Switch_Port', 'p1', 'enabled=maybe'],
      ['set', 'Logical_Switch_Port', 'p1', 'dhcpv4_options=abc'],
      ['set', 'Logical_Switch_Port', 'p1', 'dhcpv4_options=@x'],
      ['set', 'Logical_Switch_Port', 'p1', 'nope=1'],
      ['set', 'Logical_Switch_Port', 'p1', 'name=a b'],
      ['add', 'Logical_Switch_Port', 'p1', 'addresses', 'x', 'y'],
      ['remove', 'Logical_Switch_Port', 'p1', 'addresses', 'x'],
      ['add', 'Logical_Switch_Port', 'p1', 'external_ids', 'q=r'],
      ['remove', 'Logical_Switch_Port', 'p1', 'external_ids', 'a', 'c=zz'],
      ['get', 'Logical_Switch_Port', 'p1', 'external_ids', 'addresses'],
      ['add', 'Logical_Switch_Port', 'p1', 'tag_request', '7'],
      ['remove', 'Logical_Switch_Port', 'p1', 'tag_request', '9'],
      ['remove', 'Logical_Switch_Port', 'p1', 'name', 'p1'],
      ['clear', 'Logical_Switch_Port', 'p1', 'name'],
      ['clear', 'Logical_Switch_Port', 'p1', 'addresses', 'external_ids', 'tag_request'],
      ['list', 'Logical_Switch_Port', 'p1'],
      ['create', 'Logical_Switch', 'name=q1', 'other_config:a=b'],
      ['--id=@x', 'create', 'Logical_Switch', 'name=q2'],
      ['--id=@p', 'create', 'Logical_Switch_Port', 'name=qp', '--', 'add', 'Logical_Switch', 'q1', 'ports', '@p'],
      ['lsp-list', 'q1'],
      ['destroy', 'Logical_Switch', 'q1', 'q2'],
      ['--if-exists', 'destroy', 'Logical_Switch', 'q1'],
      ['destroy', 'Logical_Switch', 'q1'],
      ['--all', 'destroy', 'ACL'],
      ['list', 'Nope'],
      ['list', 'logical_s'],
      ['list', 'Logical_Switch', 'nope'],
      ['get', 'NB_Global', '.', 'nb_cfg'],
      ['get', 'Logical_Switch', '.', 'name'],
      ['wait-until', 'Logical_Switch', 'dmz', 'name=dmz'],
      ['wait-until', 'Logical_Switch_Port', 'p2', 'tag=7', 'external_ids:k=v'],
    ],
  },
  {
    name: 'switch and port commands',
    setup: [
      ['create', 'DHCP_Options', 'cidr=172.16.255.128/26', DHCP_OPTS],
      ['ls-add', 'sw0'],
      ['ls-add', 'sw1'],
      ['lsp-add', 'sw0', 'vm1'],
    ],
    cases: [
      ['ls-add', 'sw2'],
      ['ls-add', 'sw0'],
      ['--may-exist', 'ls-add', 'sw0'],
      ['ls-add'],
      ['ls-list'],
      ['ls-del', 'sw2'],
      ['ls-del', 'nope'],
      ['--if-exists', 'ls-del', 'nope'],
      ['lsp-add', 'sw0', 'vm1'],
      ['lsp-add', 'sw0', 'c1', 'vm1'],
      ['lsp-add', 'sw0', 'c1', 'vm1', '5000'],
      ['lsp-add', 'sw0', 'c1', 'vm1', 'x'],
      ['lsp-add', 'sw0', 'c1', 'vm1', '-1'],
      ['lsp-add', 'nosw', 'c1'],
      ['lsp-add', 'sw0'],
      ['lsp-add', 'sw0', 'c1', 'vm1', '0'],
      ['lsp-add', 'sw0', 'c2', 'vm1', '4095'],
      ['lsp-add', 'sw0', 'c3', 'vm1', '12'],
      ['--may-exist', 'lsp-add', 'sw0', 'c3', 'vm1', '12'],
      ['--may-exist', 'lsp-add', 'sw1', 'c3'],
      ['--may-exist', 'lsp-add', 'sw0', 'vm1'],
      ['lsp-get-parent', 'c1'],
      ['lsp-get-tag', 'c1'],
      ['lsp-get-parent', 'vm1'],
      ['list', 'Logical_Switch_Port', 'c1', 'c2'],
      ['lsp-list', 'sw0'],
      ['lsp-list', 'nosw'],
      ['lsp-set-addresses', 'vm1', '00:00:00:00:00:01 10.0.0.1'],
      ['lsp-set-addresses', 'c1', '00:00:00:00:00:02 10.0.0.1'],
      ['lsp-set-addresses', 'c1', 'dynamic', 'unknown', 'router', '00:00:00:00:00:03 10.0.0.3 fe80::1'],
      ['lsp-set-addresses', 'c2', '00:00:00:00:00:04', '00:00:00:00:00:05 10.0.0.5/24'],
      ['lsp-set-addresses', 'c2', 'xyz'],
      ['lsp-set-addresses', 'c2', '10.0.0.9 00:00:00:00:00:09'],
      ['lsp-get-addresses', 'c1'],
      ['lsp-get-addresses', 'nope'],
      ['lsp-set-port-security', 'vm1', '00:00:00:00:00:01 10.0.0.1'],
      ['lsp-get-port-security', 'vm1'],
      ['lsp-set-port-security', 'vm1'],
      ['lsp-get-port-security', 'vm1'],
      ['lsp-get-up', 'vm1'],
      ['set', 'Logical_Switch_Port', 'vm1', 'up=true'],
      ['lsp-get-up', 'vm1'],
      ['lsp-get-enabled', 'vm1'],
      ['lsp-set-enabled', 'vm1', 'disabled'],
      ['lsp-get-enabled', 'vm1'],
      ['lsp-set-enabled', 'vm1', 'x'],
      ['lsp-set-type', 'vm1', 'bogus'],
      ['lsp-set-type', 'c2', 'localnet'],
      ['lsp-get-type', 'c2'],
      ['lsp-get-type', 'vm1'],
      ['lsp-set-options', 'c2', 'network_name=phys', 'x=1'],
      ['lsp-get-options', 'c2'],
      ['lsp-set-dhcpv4-options', 'vm1', '{dhcp}'],
      ['lsp-get-dhcpv4-options', 'vm1'],
      ['lsp-set-dhcpv4-options', 'vm1', 'junk'],
      ['lsp-set-dhcpv4-options', 'vm1', '6e45eb6f-ee15-4a98-84c3-11801b857d50'],
      ['lsp-set-dhcpv4-options', 'vm1'],
      ['lsp-get-dhcpv4-options', 'vm1'],
      ['show'],
      ['lsp-del', 'c3'],
      ['lsp-del', 'nope'],
      ['--if-exists', 'lsp-del', 'nope'],
      ['lsp-list', 'sw0'],
      ['ls-del', 'sw0'],
      ['ls-list'],
    ],
  },
  {
    name: 'dhcp options, routers, acls, port groups',
    setup: [
      ['ls-add', 's1'],
      ['lsp-add', 's1', 'a1'],
      ['lsp-add', 's1', 'a2'],
      ['lr-add', 'r1'],
    ],
    cases: [
      ['dhcp-options-create', '10.0.0.0/24'],
      ['dhcp-options-create', '10.0.0.0/33'],
      ['dhcp-options-create', 'junk'],
      ['dhcp-options-create', 'fd00::/64', 'a=b'],
      ['dhcp-options-list'],
      ['--columns=cidr,external_ids', 'list', 'DHCP_Options'],
      ['dhcp-options-del', 'junk'],
      ['lr-add', 'r2'],
      ['lr-add', 'r1'],
      ['--may-exist', 'lr-add', 'r1'],
      ['lr-list'],
      ['lr-del', 'r2'],
      ['lr-del', 'nope'],
      ['lrp-add', 'r1', 'rp1', '00:00:00:00:01:01', '10.0.0.254/24'],
      ['lrp-add', 'r1', 'rp2', 'zz', '10.0.0.254/24'],
      ['lrp-add', 'r1', 'rp2', '00:00:00:00:01:02', '10.1.0.1/24', 'fd00::1/64', 'peer=rp1'],
      ['lrp-add', 'r1', 'rp2', '00:00:00:00:01:02', '10.1.0.1/24'],
      ['lrp-add', 'nope', 'rp3', '00:00:00:00:01:03', '10.2.0.1/24'],
      ['lrp-list', 'r1'],
      ['lrp-set-enabled', 'rp1', 'disabled'],
      ['lrp-set-enabled', 'rp1', 'sideways'],
      ['list', 'Logical_Router_Port'],
      ['show', 'r1'],
      ['lr-route-add', 'r1', '0.0.0.0/0', '10.0.0.1'],
      ['lr-route-add', 'r1', '192.168.0.0/16', '10.0.0.2', 'rp1'],
      ['lr-route-add', 'r1', '192.168.7.5/16', '10.0.0.3'],
      ['lr-route-add', 'r1', 'fd01::/64', 'fd00::2'],
      ['lr-route-add', 'r1', '10.9.0.0/16', 'bad'],
      ['lr-route-add', 'r1', '0.0.0.0/0', '10.0.0.1'],
      ['lr-route-add', 'r1', 'junk', '10.0.0.1'],
      ['lr-route-list', 'r1'],
      ['lr-route-del', 'r1', '0.0.0.0/0'],
      ['lr-route-list', 'r1'],
      ['lr-route-del', 'r1'],
      ['lr-route-list', 'r1'],
      ['acl-add', 's1', 'from-lport', '1001', 'ip4', 'allow'],
      ['acl-add', 's1', 'to-lport', '1000', 'ip4.src==10.0.0.1', 'drop'],
      ['acl-add', 's1', 'sideways', '1000', 'ip4', 'drop'],
      ['acl-add', 's1', 'to-lport', '99999', 'ip4', 'drop'],
      ['acl-add', 's1', 'to-lport', '100', 'ip4', 'bogus'],
      ['--log', '--name=n1', '--severity=info', 'acl-add', 's1', 'to-lport', '100', 'tcp', 'allow-related'],
      ['acl-list', 's1'],
      ['acl-list', 'nope'],
      ['pg-add', 'pg1', 'a1', 'a2'],
      ['pg-add', 'pg2'],
      ['pg-add', 'pg1'],
      ['pg-set-ports', 'pg2', 'a1'],
      ['pg-set-ports', 'pg2', 'nope'],
      ['acl-add', 'pg1', 'to-lport', '100', 'ip', 'drop'],
      ['--type=port-group', 'acl-list', 'pg1'],
      ['--columns=name,acls', 'list', 'Port_Group'],
      ['acl-del', 's1', 'to-lport', '1000', 'ip4.src==10.0.0.1'],
      ['acl-list', 's1'],
      ['acl-del', 's1'],
      ['acl-list', 's1'],
      ['pg-del', 'pg2'],
      ['pg-del', 'pg2'],
      ['--columns=name,acls', 'list', 'Port_Group'],
      ['lrp-del', 'rp2'],
      ['lrp-list', 'r1'],
    ],
  },
  {
    name: '--wait through nb_cfg, sb_cfg and hv_cfg',
    setup: [
      ['ls-add', 'x'],
      ['set', 'NB_Global', '.', 'sb_cfg=100', 'hv_cfg=100'],
    ],
    cases: [
      ['--wait=sb', 'ls-add', 'w1'],
      ['--wait=hv', 'ls-add', 'w2'],
      ['--wait=sb', 'get', 'NB_Global', '.', 'nb_cfg'],
      ['--wait=bogus', 'ls-list'],
      ['set', 'NB_Global', '.', 'sb_cfg=0'],
      ['--wait=sb', '--timeout=1', 'ls-add', 'w3'],
    ],
  },
];

async function fillPlaceholders(remote: string, args: string[]): Promise<string[]> {
  if (!args.some((a) => a.includes('{dhcp}'))) return args;
  const r = await realNbctl(remote, ['--bare', '--columns=_uuid', 'find', 'DHCP_Options', 'cidr="172.16.255.128/26"']);
  const u = r.stdout.trim();
  return args.map((a) => a.replace('{dhcp}', u));
}

for (const kind of ['real', 'ovnts'] as ServerKind[]) {
  describe(`ovnts nbctl vs ovn-nbctl on ${kind} ovsdb-server`, () => {
    for (const group of GROUPS) {
      describe(group.name, () => {
        let a: RunningServer & { cleanup(): Promise<void> };
        let b: RunningServer & { cleanup(): Promise<void> };
        before(async () => {
          [a, b] = await Promise.all([startServer(kind), startServer(kind)]);
          for (const s of [a, b]) {
            for (const line of group.setup) {
              const r = await realNbctl(s.remote, line);
              assert.equal(r.code, 0, `setup ${line.join(' ')}: ${r.stderr}`);
            }
          }
        });
        after(async () => {
          await Promise.all([a?.cleanup(), b?.cleanup()]);
        });
        for (const line of group.cases) {
          test(line.join(' '), async () => {
            const [want, got] = await Promise.all([
              realNbctl(a.remote, await fillPlaceholders(a.remote, line)),
              ovntsNbctl(b.remote, await fillPlaceholders(b.remote, line)),
            ]);
            assert.equal(stableErr(got.stderr), stableErr(want.stderr), 'stderr');
            assert.equal(stableOutput(got.stdout), stableOutput(want.stdout), 'stdout');
            assert.equal(got.code, want.code, 'exit status');
            assert.equal(await state(b.remote), await state(a.remote), 'database contents afterwards');
          });
        }
      });
    }
  });
}
