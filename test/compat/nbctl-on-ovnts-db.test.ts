/**
 * The real ovn-nbctl programs the seed lab's northbound database (seeds 000,
 * 002 and 003) against the real ovsdb-server and against `ovnts
 * ovsdb-server`; every command's output — list, find, show, get — must be the
 * same on both (UUIDs normalised, records in a stable order).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bothServers } from '../helpers/ovsdb-servers.js';
import { normalizeUuids } from '../helpers/normalize.js';
import { run } from '../helpers/proc.js';

const nbctl = (remote: string, args: string[]) => run('ovn-nbctl', [`--db=${remote}`, '--timeout=10', ...args]);

const blind = (s: string) => s.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'U');
const byBlind = (a: string, b: string) => (blind(a) < blind(b) ? -1 : blind(a) > blind(b) ? 1 : 0);

/**
 * ovn-nbctl prints records in its replica's hash order and `show` prints a
 * switch's ports in the order of the `ports` set, both of which follow the
 * UUIDs: sort the blank-line separated records of list/find output, and
 * `show`'s top-level blocks and their `port` sub-blocks, by UUID-blind text.
 */
function stableRecords(out: string): string {
  const text = out.trimEnd();
  if (text.includes('\n\n')) return normalizeUuids(text.split('\n\n').sort(byBlind).join('\n\n'));
  const blocks = text.split(/\n(?=\S)/).map((block) => {
    const [head, ...children] = block.split(/\n(?= {4}\S)/);
    return [head, ...children.sort(byBlind)].join('\n');
  });
  return normalizeUuids(blocks.sort(byBlind).join('\n'));
}

const DHCP_OPTS = 'options="lease_time"="3600" "router"="172.16.255.129" "server_id"="172.16.255.129" "server_mac"="02:ac:10:ff:01:29"';

/** The seed lab's northbound commands; `{dhcp}` is the DHCP_Options UUID. */
const SCRIPT: string[][] = [
  ['lr-add', 'tenant1'],
  ['lrp-add', 'tenant1', 'tenant1-dmz', '02:ac:10:ff:01:29', '172.16.255.129/26'],
  ['ls-add', 'dmz'],
  ['lsp-add', 'dmz', 'dmz-tenant1'],
  ['lsp-set-type', 'dmz-tenant1', 'router'],
  ['lsp-set-addresses', 'dmz-tenant1', '02:ac:10:ff:01:29'],
  ['lsp-set-options', 'dmz-tenant1', 'router-port=tenant1-dmz'],
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
  // Seed 003: a container port created in one go, with a tag to allocate.
  ['lsp-add', 'dmz', 'dmz-c53', 'dmz-vm5', '53'],
  ['lsp-get-parent', 'dmz-c51'],
  ['lsp-get-tag', 'dmz-c51'],
  ['lsp-get-dhcpv4-options', 'dmz-vm5'],
  ['list', 'DHCP_Options'],
  ['find', 'Logical_Switch_Port', 'name="dmz-c51"'],
  ['find', 'Logical_Switch_Port', 'tag>51'],
  ['list', 'Logical_Switch_Port'],
  ['list', 'Logical_Router_Port'],
  ['--columns=name,tag,parent_name', '--format=csv', 'list', 'Logical_Switch_Port'],
  ['--format=json', 'find', 'Logical_Switch_Port', 'name=dmz-c52'],
  ['get', 'Logical_Switch_Port', 'dmz-c52', 'tag', 'parent_name', 'addresses'],
  ['lsp-list', 'dmz'],
  ['ls-list'],
  ['lr-list'],
  ['lrp-list', 'tenant1'],
  ['show'],
  // Errors come from the server's answers too.
  ['lsp-add', 'dmz', 'dmz-c51'],
  ['lsp-del', 'nope'],
  ['remove', 'Logical_Switch_Port', 'dmz-c51', 'addresses', '"02:ac:10:ff:01:33 172.16.255.133"'],
  ['get', 'Logical_Switch_Port', 'dmz-c51', 'addresses'],
  ['clear', 'Logical_Switch_Port', 'dmz-c52', 'port_security'],
  ['lsp-del', 'dmz-c53'],
  ['ls-del', 'dmz'],
  ['list', 'Logical_Switch_Port'],
];

const servers = bothServers();

test('ovn-nbctl gives the same output against ovnts as against ovsdb-server', async () => {
  const { real, ovnts } = servers;
  const dhcp: Record<string, string> = {};
  for (const s of [real, ovnts]) {
    const r = await nbctl(s.remote, ['create', 'DHCP_Options', 'cidr=172.16.255.128/26', DHCP_OPTS]);
    assert.equal(r.code, 0, `${s.kind}: ${r.stderr}`);
    dhcp[s.kind] = r.stdout.trim();
  }
  for (const cmd of SCRIPT) {
    const a = await nbctl(
      real.remote,
      cmd.map((x) => x.replace('{dhcp}', dhcp['real'] as string)),
    );
    const b = await nbctl(
      ovnts.remote,
      cmd.map((x) => x.replace('{dhcp}', dhcp['ovnts'] as string)),
    );
    const what = cmd.join(' ');
    assert.equal(b.code, a.code, `${what}: exit code (stderr: ${b.stderr})`);
    assert.equal(stableRecords(b.stdout), stableRecords(a.stdout), `${what}: stdout`);
    assert.equal(normalizeUuids(b.stderr), normalizeUuids(a.stderr), `${what}: stderr`);
  }
});
