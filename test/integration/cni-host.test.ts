/**
 * ovnts-cni in host mode, driven by a cnitool built from Debian's libcni
 * (the real CNI client library): ADD/CHECK/DEL for every supported
 * cniVersion with the result in that version's form, CHECK and DEL given
 * the cached prevResult by libcni, containers on one logical switch pinging
 * each other right after ADD returns (it waits for ovn-installed), static
 * IP/MAC from CNI_ARGS and from runtimeConfig, DEL repeated and after the
 * netns is gone, bad configurations answered with the spec's error codes,
 * DEL with the IPAM unreachable (local part cleaned, code 11), GC of
 * attachments not in cni.dev/valid-attachments, and STATUS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createNetns, deleteNetns } from '../helpers/netns.js';
import { cleanupAll, run } from '../helpers/proc.js';
import { buildCnitool, cnitoolIn, type Cnitool } from '../helpers/cnitool.js';
import { startCniWorld, type CniWorld } from '../helpers/cni.js';

let w: CniWorld;
let cnitool: Cnitool;
let netId: string;
const SUBNET = '198.51.100.0/24';

before(async () => {
  const [bin, world] = await Promise.all([buildCnitool(), startCniWorld()]);
  w = world;
  cnitool = cnitoolIn(bin, w.confDir, [w.pluginDir], join(w.dir, 'cache'));
  netId = await w.network(`${w.id}-net`, SUBNET);
});

after(async () => {
  await w?.stop();
  await cleanupAll();
});

interface Result {
  cniVersion: string;
  interfaces: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips: Array<{ version?: string; address: string; gateway?: string; interface: number }>;
  routes?: Array<{ dst: string; gw: string }>;
}

function ok(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function inNs(ns: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run('nsenter', [`--net=/run/netns/${ns}`, ...args]);
}

async function neutronPorts(): Promise<
  Array<{ id: string; device_id: string; mac_address: string; fixed_ips: Array<{ ip_address: string }> }>
> {
  return (
    await w.api<{ ports: Array<{ id: string; device_id: string; mac_address: string; fixed_ips: Array<{ ip_address: string }> }> }>(
      'GET',
      `/v2.0/ports?network_id=${netId}`,
    )
  ).ports;
}

test(
  'ADD/CHECK/DEL through libcni for every cniVersion; containers ping each other as soon as ADD returns',
  { timeout: 300_000 },
  async () => {
    const versions = ['0.3.1', '0.4.0', '1.0.0'];
    const added: Array<{ ns: string; net: string; result: Result }> = [];
    for (const v of versions) {
      const net = `${w.id}-v${v.replace(/\./g, '')}`;
      w.conflist(net, v, { network: `${w.id}-net` });
      const ns = await createNetns(`${w.id}-${v.replace(/\./g, '')}`);
      const result = JSON.parse(ok(await cnitool('add', net, `/run/netns/${ns}`), `add ${v}`)) as Result;
      assert.equal(result.cniVersion, v);
      const ip = result.ips[0]!;
      assert.equal(ip.version, v.startsWith('0.') ? '4' : undefined, `ips[].version in ${v}`);
      assert.match(ip.address, /^198\.51\.100\.\d+\/24$/);
      assert.equal(ip.gateway, '198.51.100.1');
      assert.equal(result.interfaces[ip.interface]?.name, 'eth0');
      assert.equal(result.interfaces[ip.interface]?.sandbox, `/run/netns/${ns}`);
      assert.deepEqual(result.routes, [{ dst: '0.0.0.0/0', gw: '198.51.100.1' }]);
      // The container really has it: address, MAC, default route, lo up.
      const addr = ok(await inNs(ns, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'), 'ip addr');
      assert.ok(addr.includes(ip.address), addr);
      const link = ok(await inNs(ns, 'ip', '-o', 'link', 'show', 'dev', 'eth0'), 'ip link');
      assert.ok(link.includes(result.interfaces[ip.interface]!.mac!), link);
      assert.match(ok(await inNs(ns, 'ip', 'route', 'show', 'default'), 'ip route'), /default via 198\.51\.100\.1 dev eth0/);
      assert.match(ok(await inNs(ns, 'ip', '-o', 'link', 'show', 'dev', 'lo'), 'lo'), /UP/);
      // The IPAM port is the container's: device_id, MAC and address as returned; the OVS port is bound to it.
      const port = (await neutronPorts()).find((p) => p.fixed_ips.some((f) => `${f.ip_address}/24` === ip.address));
      assert.ok(port !== undefined, 'a Neutron port with the address');
      assert.equal(port.mac_address, result.interfaces[ip.interface]!.mac);
      assert.match(port.device_id, /^cnitool-/);
      const host = result.interfaces.find((i) => i.sandbox === undefined)!.name;
      assert.equal((await w.ovs.vsctl('get', 'Interface', host, 'external_ids:iface-id')).trim(), `"${port.id}"`);
      assert.equal((await w.ovs.vsctl('get', 'Interface', host, 'external_ids:ovn-installed')).trim(), '"true"');
      // The first ping after ADD, to every container added before: no waiting.
      for (const other of added) {
        const peer = other.result.ips[0]!.address.split('/')[0]!;
        ok(await inNs(ns, 'ping', '-c', '1', '-W', '2', peer), `first ping ${v} -> ${other.net}`);
      }
      if (v !== '0.3.1') ok(await cnitool('check', net, `/run/netns/${ns}`), `check ${v}`);
      added.push({ ns, net, result });
    }
    // CHECK notices what is broken: the container's address removed.
    const last = added.at(-1)!;
    ok(await inNs(last.ns, 'ip', 'addr', 'flush', 'dev', 'eth0'), 'flush');
    const bad = await cnitool('check', last.net, `/run/netns/${last.ns}`);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /lacks address/);
    for (const a of added) {
      ok(await cnitool('del', a.net, `/run/netns/${a.ns}`), `del ${a.net}`);
      // DEL again: nothing left to do, still success.
      ok(await cnitool('del', a.net, `/run/netns/${a.ns}`), `del again ${a.net}`);
      assert.equal((await inNs(a.ns, 'ip', 'link', 'show', 'dev', 'eth0')).code, 1, 'eth0 gone');
      await deleteNetns(a.ns);
    }
    assert.deepEqual(await neutronPorts(), []);
    assert.deepEqual(
      (await w.ports()).filter((p) => p.startsWith('ovc')),
      [],
    );
  },
);

test(
  'static IP and MAC from CNI_ARGS (podman --ip/--mac-address) and from runtimeConfig; a taken address is an IPAM error',
  { timeout: 120_000 },
  async () => {
    const net = `${w.id}-static`;
    w.conflist(net, '1.0.0', { network: netId, capabilities: { ips: true, mac: true } });
    const a = await createNetns(`${w.id}-sa`);
    const b = await createNetns(`${w.id}-sb`);
    const ra = JSON.parse(
      ok(
        await cnitool('add', net, `/run/netns/${a}`, { CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=x;MAC=0a:00:00:00:dd:09;IP=198.51.100.9' }),
        'add args',
      ),
    ) as Result;
    assert.equal(ra.ips[0]!.address, '198.51.100.9/24');
    assert.equal(ra.interfaces[1]!.mac, '0a:00:00:00:dd:09');
    const rb = JSON.parse(
      ok(
        await cnitool('add', net, `/run/netns/${b}`, { CAP_ARGS: JSON.stringify({ ips: ['198.51.100.10/24'], mac: '0a:00:00:00:dd:10' }) }),
        'add runtimeConfig',
      ),
    ) as Result;
    assert.equal(rb.ips[0]!.address, '198.51.100.10/24');
    assert.equal(rb.interfaces[1]!.mac, '0a:00:00:00:dd:10');
    ok(await inNs(a, 'ping', '-c', '1', '-W', '2', '198.51.100.10'), 'ping static');
    // The same address again: the IPAM refuses, the plugin says so and leaves nothing behind.
    const c = await createNetns(`${w.id}-sc`);
    const dup = await w.exec(
      { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'dup1', CNI_NETNS: `/run/netns/${c}`, CNI_IFNAME: 'eth0', CNI_ARGS: 'IP=198.51.100.9' },
      { cniVersion: '1.0.0', name: net, type: 'ovnts-cni', ...w.base, network: netId },
    );
    assert.equal(dup.code, 1);
    const err = JSON.parse(dup.stdout) as { code: number; msg: string };
    assert.equal(err.code, 101);
    assert.match(err.msg, /198\.51\.100\.9 already allocated/);
    assert.equal((await inNs(c, 'ip', 'link', 'show', 'dev', 'eth0')).code, 1);
    for (const ns of [a, b]) ok(await cnitool('del', net, `/run/netns/${ns}`), 'del');
    assert.deepEqual(await neutronPorts(), []);
  },
);

test('bad input gets the spec error codes', { timeout: 120_000 }, async () => {
  const ns = await createNetns(`${w.id}-bad`);
  const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'bad1', CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0' };
  const conf = { cniVersion: '1.0.0', name: 'bad', type: 'ovnts-cni', ...w.base, network: netId };
  const cases: Array<[string, Record<string, string>, unknown, number, RegExp]> = [
    ['unknown version', env, { ...conf, cniVersion: '0.9.9' }, 1, /incompatible CNI version 0\.9\.9/],
    ['unknown mode', env, { ...conf, mode: 'bridge' }, 2, /mode=bridge/],
    ['no network', env, { ...conf, network: undefined }, 7, /"network" is missing/],
    ['no endpoint', env, { ...conf, endpoint: undefined }, 7, /"endpoint" is missing/],
    ['no cniVersion', env, { ...conf, cniVersion: undefined }, 7, /cniVersion is missing/],
    ['no such network', env, { ...conf, network: 'nosuchnet' }, 7, /network "nosuchnet" not found/],
    ['not JSON', env, '{"cniVersion": ', 6, /cannot decode/],
    ['no container id', { ...env, CNI_CONTAINERID: '' }, conf, 4, /CNI_CONTAINERID is not set/],
    ['no netns', { ...env, CNI_NETNS: '' }, conf, 4, /CNI_NETNS is not set/],
    ['bad ifname', { ...env, CNI_IFNAME: 'a/b' }, conf, 4, /invalid CNI_IFNAME/],
    ['unknown command', { ...env, CNI_COMMAND: 'FROB' }, conf, 4, /unknown CNI_COMMAND: FROB/],
    ['CHECK without prevResult', { ...env, CNI_COMMAND: 'CHECK' }, conf, 7, /prevResult/],
    ['IPAM unreachable', env, { ...conf, endpoint: 'http://127.0.0.1:9' }, 11, /IPAM unreachable/],
  ];
  for (const [what, e, c, code, msg] of cases) {
    const r = await w.exec(e, c);
    assert.equal(r.code, 1, `${what}: exit status`);
    const out = JSON.parse(r.stdout) as { code: number; msg: string; cniVersion: string };
    assert.equal(out.code, code, `${what}: ${r.stdout}`);
    assert.match(out.msg, msg, what);
    assert.equal(typeof out.cniVersion, 'string');
  }
  // libcni passes the plugin's error through to its caller.
  w.conflist(`${w.id}-nonet`, '1.0.0', { network: 'nosuchnet' });
  const r = await cnitool('add', `${w.id}-nonet`, `/run/netns/${ns}`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /network "nosuchnet" not found/);
  // VERSION answers in the asked version.
  const v = await w.exec({ CNI_COMMAND: 'VERSION' }, { cniVersion: '0.4.0' });
  assert.deepEqual(JSON.parse(v.stdout), { cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  assert.deepEqual(await neutronPorts(), []);
});

test(
  'DEL with the netns gone, DEL with the IPAM unreachable (code 11, local part removed), GC and STATUS',
  { timeout: 180_000 },
  async () => {
    const net = `${w.id}-gc`;
    const conf = { cniVersion: '1.1.0', name: net, type: 'ovnts-cni', ...w.base, network: netId };
    const env = (cid: string, ns: string, cmd: string): Record<string, string> => ({
      CNI_COMMAND: cmd,
      CNI_CONTAINERID: cid,
      CNI_NETNS: `/run/netns/${ns}`,
      CNI_IFNAME: 'eth0',
    });
    const nss: string[] = [];
    const results: Result[] = [];
    for (const k of [0, 1, 2, 3]) {
      const ns = await createNetns(`${w.id}-g${k}`);
      nss.push(ns);
      const r = await w.exec(env(`ctr${k}`, ns, 'ADD'), conf);
      results.push(JSON.parse(ok(r, `add ctr${k}`)) as Result);
    }
    assert.equal(results[0]!.cniVersion, '1.1.0');
    // ctr0: its namespace disappears first (the runtime lost it); DEL still cleans up.
    await deleteNetns(nss[0]!);
    ok(await w.exec({ ...env('ctr0', nss[0]!, 'DEL') }, { ...conf, prevResult: results[0] }), 'del without netns');
    ok(await w.exec({ ...env('ctr0', nss[0]!, 'DEL'), CNI_NETNS: '' }, conf), 'del without CNI_NETNS');
    // ctr1: IPAM unreachable — the veth and OVS port go, the plugin asks to be retried.
    const host1 = results[1]!.interfaces[0]!.name;
    const d = await w.exec(env('ctr1', nss[1]!, 'DEL'), { ...conf, endpoint: 'http://127.0.0.1:9' });
    assert.equal(d.code, 1);
    assert.equal((JSON.parse(d.stdout) as { code: number }).code, 11);
    assert.ok(!(await w.ports()).includes(host1), 'OVS port removed');
    assert.equal((await inNs(nss[1]!, 'ip', 'link', 'show', 'dev', 'eth0')).code, 1, 'veth removed');
    assert.equal((await neutronPorts()).filter((p) => p.device_id === 'ctr1').length, 1, 'the IPAM port is still there');
    // STATUS: available, and not when the IPAM is unreachable.
    ok(await w.exec({ CNI_COMMAND: 'STATUS' }, conf), 'status');
    const st = await w.exec({ CNI_COMMAND: 'STATUS' }, { ...conf, endpoint: 'http://127.0.0.1:9' });
    assert.equal((JSON.parse(st.stdout) as { code: number }).code, 50);
    // GC with ctr3 the only valid attachment: ctr1's leftover port and ctr2's whole attachment go.
    ok(await w.exec({ CNI_COMMAND: 'GC' }, { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'ctr3', ifname: 'eth0' }] }), 'gc');
    assert.deepEqual(
      (await neutronPorts()).map((p) => p.device_id),
      ['ctr3'],
    );
    assert.equal((await inNs(nss[2]!, 'ip', 'link', 'show', 'dev', 'eth0')).code, 1, 'ctr2 veth removed');
    assert.ok(!(await w.ports()).includes(results[2]!.interfaces[0]!.name));
    assert.ok((await w.ports()).includes(results[3]!.interfaces[0]!.name), 'ctr3 kept');
    ok(await w.exec({ CNI_COMMAND: 'GC' }, { ...conf, 'cni.dev/valid-attachments': [] }), 'gc all');
    assert.deepEqual(await neutronPorts(), []);
    assert.deepEqual(
      (await w.ports()).filter((p) => p.startsWith('ovc')),
      [],
    );
  },
);
