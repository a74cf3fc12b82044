/**
 * VLAN isolation of seed 004's underlay mode: containers A and B in one VM
 * sit on VLAN access ports of breth0 (tags 1 and 2), their ports nested under
 * the VM's port. Watched at B's eth1 (what B receives), at vm6 on the other
 * hypervisor, and on the hypervisor side of the VM's eth0 (what leaves the
 * VM, with its outer tag — the tag the hypervisor maps to a child port):
 *
 * (a) From A's namespace, B's VLAN gets nowhere: a VLAN subinterface
 *     eth1.2 with B's MAC and IP, and raw frames — tagged 2, priority-tagged
 *     with 2 inside (double tagging), 802.1ad 2 over 802.1Q 2, tagged 2 to
 *     broadcast — never leave the VM in VLAN 2 and never reach B or vm6.
 * (b) A spoofing B untagged (B's MAC and IP; A's MAC with B's IP; an ARP
 *     reply saying B's IP is at A's MAC) leaves the VM only in A's VLAN, and
 *     A's port security on the hypervisor stops it: vm6 sees none of it and
 *     still has B's IP at B's MAC.
 * (c) B still works: it reaches vm6 and A, vm6 reaches B.
 * At the hypervisor, the VM's OpenFlow port enters the pipeline untagged (the
 * VM itself) or with exactly its children's tags; a frame tagged with no
 * child's VLAN — here sent by the VM itself on eth0 — is dropped (northd's
 * ls_in_check_port_sec `vlan.present`), while the VM sending in VLAN 2 as B
 * does reach vm6 (OVN trusts the VM with its children's tags): so the
 * captures could have seen a leak.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, runOk, tmpDir, waitFor } from '../helpers/proc.js';
import { okLines, OVN_CONTAINER } from '../helpers/containers.js';
import { prepareVm, startUnderlayWorld, waitPortsUp, type UnderlayWorld } from '../helpers/underlay-vm.js';
import {
  arpReply,
  ethernet,
  inPrefix,
  ipv4Udp,
  netnsOf,
  sendFrames,
  startCapture,
  TPID_8021AD,
  TPID_8021Q,
  type Capture,
  type Captured,
} from '../helpers/frames.js';

const MARK_PORT = 31337;
const BROADCAST = 'ff:ff:ff:ff:ff:ff';

interface Child {
  readonly name: string;
  readonly ep: string;
  readonly mac: string;
  readonly ip: string;
  readonly tag: number;
  /** Enters its network container's namespace. */
  readonly ns: string[];
}

let w: UnderlayWorld;
let env: Record<string, string>;
let a: Child;
let b: Child;
let hvNs: string[];
let vm6: string[];
let ofport: string;

const container = async (...args: string[]): Promise<string[]> =>
  okLines(await w.inVm(OVN_CONTAINER, args, env), `ovn-container ${args.join(' ')}`);

async function child(name: string): Promise<Child> {
  const ep = (await container('endpoint-create', 'dmz', name)).pop()!;
  const nc = (await container('container-create', `--network=${name}`)).pop()!;
  const pid = (await w.dockerd.docker('inspect', '-f', '{{.State.Pid}}', nc)).trim();
  const ids = new Map(
    (await w.vmOvs.vsctl('br-get-external-id', 'breth0'))
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );
  return {
    name,
    ep,
    mac: ids.get(`${ep}_ma`)!,
    ip: ids.get(`${ep}_ip`)!.split('/')[0]!,
    tag: Number(ids.get(`${ep}_vlan`)),
    ns: netnsOf(pid),
  };
}

async function pings(prefix: readonly string[], dest: string, what: string): Promise<void> {
  await waitFor(async () => (await inPrefix(prefix, 'ping', ['-c', '1', '-W', '1', dest])).code === 0, { what, timeoutMs: 30_000 });
}

before(async () => {
  w = await startUnderlayWorld(tmpDir('ovnts-vlan-iso').path);
  await prepareVm(w);
  env = { ...w.vmBaseEnv, OS_VIF_ID: w.vm5.id, OS_AUTH_STRATEGY: 'noauth', OS_TENANT_ID: 'admin' };
  a = await child('ca');
  b = await child('cb');
  assert.deepEqual([a.tag, b.tag], [1, 2]);
  hvNs = ['nsenter', `--net=/run/netns/${w.hvs[0].ns}`];
  vm6 = ['nsenter', `--net=/run/netns/${w.vm6Ns}`];
  ofport = (await w.hvs[0].ovs.vsctl('get', 'Interface', w.vmPeer, 'ofport')).trim();
  await waitPortsUp(w, [a.ep, b.ep]);
  await pings(a.ns, w.vm6.ip, 'A reaches vm6');
  await pings(b.ns, w.vm6.ip, 'B reaches vm6');
  await pings(vm6, b.ip, 'vm6 reaches B');
});

after(async () => {
  await w?.stop();
  await cleanupAll();
});

interface Seen {
  readonly atB: Captured[];
  readonly atVm6: Captured[];
  readonly atHv: Captured[];
}

/**
 * Captures at B and at the hypervisor's end of the VM's eth0 (received only),
 * and at vm6, while `act` runs and until `arrived` (the test's controls) holds
 * or 20 s have passed, then 1.5 s more for anything else on its way.
 */
async function watch(act: () => Promise<void>, arrived: (s: Seen) => boolean): Promise<Seen> {
  const caps: Capture[] = [];
  try {
    caps.push(await startCapture(b.ns, 'eth1', 'tcpdump(B)', true));
    caps.push(await startCapture(vm6, 'vm6', 'tcpdump(vm6)'));
    // Received by the hypervisor's end: what leaves the VM.
    caps.push(await startCapture(hvNs, w.vmPeer, 'tcpdump(hv)', true));
    await act();
    const now = (): Seen => {
      const [atB, atVm6, atHv] = caps.map((c) => c.sofar()) as [Captured[], Captured[], Captured[]];
      return { atB, atVm6, atHv };
    };
    // A Geneve hop on a loaded runner: the controls say when the traffic went through; the asserts tell if not.
    await waitFor(async () => arrived(now()), { what: 'the controls', timeoutMs: 20_000 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1500));
  } catch (e) {
    await Promise.all(caps.map((c) => c.stop()));
    throw e;
  }
  const [atB, atVm6, atHv] = (await Promise.all(caps.map((c) => c.stop()))) as [Captured[], Captured[], Captured[]];
  return { atB, atVm6, atHv };
}

const carrying = (pkts: readonly Captured[], mark: string): Captured[] => pkts.filter((p) => p.text.includes(mark));
const show = (pkts: readonly Captured[]): string => pkts.map((p) => p.header).join('\n');

test('the hypervisor: the VM port enters the pipeline untagged or with its children tags only; another tag is dropped', async () => {
  const flows = (await w.hvs[0].ovs.ofctl('--no-names', 'dump-flows', 'br-int', 'table=0'))
    .split('\n')
    .filter((l) => new RegExp(`in_port=${ofport}\\b`).test(l));
  const tags = flows.map((l) => /dl_vlan=(\d+)/.exec(l)?.[1] ?? 'untagged').sort();
  assert.deepEqual(tags, ['1', '2', 'untagged'], flows.join('\n'));
  const trace = async (vlan: number, src: Child): Promise<string> =>
    w.hvs[0].ovs.appctl(
      'ofproto/trace',
      'br-int',
      `udp,in_port=${ofport},dl_vlan=${vlan},dl_src=${src.mac},dl_dst=${w.vm6.mac},nw_src=${src.ip},nw_dst=${w.vm6.ip},nw_ttl=64`,
    );
  assert.match(await trace(100, b), /Datapath actions: drop\n?$/m, 'a tag with no child port');
  assert.doesNotMatch(await trace(b.tag, b), /Datapath actions: drop/, "B's tag with B's addresses goes on");

  // Real frames from the VM itself, on eth0: VLAN 100 (no child) is dropped; VLAN 2 as B reaches vm6.
  const seen = await watch(
    () =>
      sendFrames(['nsenter', `--net=/run/netns/${w.vmNs}`], 'eth0', [
        ethernet(w.vm6.mac, b.mac, [[TPID_8021Q, 100]], 0x0800, ipv4Udp(b.ip, w.vm6.ip, MARK_PORT, 'ISO-VM100')),
        ethernet(BROADCAST, b.mac, [[TPID_8021Q, 100]], 0x0800, ipv4Udp(b.ip, w.vm6.ip, MARK_PORT, 'ISO-VM100')),
        ethernet(w.vm6.mac, b.mac, [[TPID_8021Q, b.tag]], 0x0800, ipv4Udp(b.ip, w.vm6.ip, MARK_PORT, 'ISO-VMB')),
      ]),
    (s) => carrying(s.atHv, 'ISO-VM100').length > 0 && carrying(s.atVm6, 'ISO-VMB').length > 0,
  );
  assert.ok(carrying(seen.atHv, 'ISO-VM100').length > 0, `the VM's VLAN-100 frames reach the hypervisor:\n${show(seen.atHv)}`);
  assert.deepEqual(show(carrying(seen.atVm6, 'ISO-VM100')), '', 'VLAN 100 at vm6');
  assert.deepEqual(show(carrying(seen.atB, 'ISO-VM100')), '', 'VLAN 100 at B');
  assert.ok(carrying(seen.atVm6, 'ISO-VMB').length > 0, `the VM in VLAN 2 as B reaches vm6:\n${show(seen.atVm6)}`);
});

test("(a) from A's namespace, B's VLAN gets nowhere: a vlan subinterface and raw tagged frames", async (t) => {
  // A's subinterface in VLAN 2 posing as B, with a static neighbour so it sends without ARP answers.
  // Kernels without 802.1Q (no 8021q module, as this runner's) cannot make one: the raw frames
  // below carry what it would send (B's MAC and IP in VLAN 2).
  const sub = 'eth1.2';
  const ip = (...args: string[]): Promise<string> => runOk(a.ns[0]!, [...a.ns.slice(1), 'ip', ...args]);
  const made = await inPrefix(a.ns, 'ip', ['link', 'add', 'link', 'eth1', 'name', sub, 'type', 'vlan', 'id', String(b.tag)]);
  if (made.code !== 0) {
    assert.match(made.stderr, /Unknown device type/, made.stderr);
    t.diagnostic(`no VLAN subinterface on this kernel (${made.stderr.trim()}): raw tagged frames only`);
  }
  try {
    if (made.code === 0) {
      await ip('link', 'set', sub, 'address', b.mac, 'up');
      await ip('addr', 'add', `${b.ip}/32`, 'dev', sub);
      await ip('route', 'add', `${w.vm6.ip}/32`, 'dev', sub, 'src', b.ip);
      await ip('neigh', 'replace', w.vm6.ip, 'lladdr', w.vm6.mac, 'dev', sub);
    }
    const udp = (mark: string, src: string): Buffer => ipv4Udp(src, w.vm6.ip, MARK_PORT, mark);
    const seen = await watch(
      async () => {
        if (made.code === 0) {
          const hex = Buffer.from('ISO-SUB').toString('hex');
          const r = await inPrefix(a.ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '1', '-p', hex, '-I', sub, w.vm6.ip]);
          assert.notEqual(r.code, 0, `ping through ${sub} as B got answers:\n${r.stdout}`);
        }
        await sendFrames(a.ns, 'eth1', [
          ethernet(w.vm6.mac, b.mac, [[TPID_8021Q, b.tag]], 0x0800, udp('ISO-TAG', b.ip)),
          ethernet(
            w.vm6.mac,
            b.mac,
            [
              [TPID_8021Q, 0],
              [TPID_8021Q, b.tag],
            ],
            0x0800,
            udp('ISO-PRIO', b.ip),
          ),
          ethernet(
            w.vm6.mac,
            b.mac,
            [
              [TPID_8021AD, b.tag],
              [TPID_8021Q, b.tag],
            ],
            0x0800,
            udp('ISO-QINQ', b.ip),
          ),
          ethernet(BROADCAST, a.mac, [[TPID_8021Q, b.tag]], 0x0800, udp('ISO-BCAST', a.ip)),
        ]);
        // The control, last: A's own traffic, untagged on eth1, leaves in VLAN 1 and reaches vm6.
        await sendFrames(a.ns, 'eth1', [ethernet(w.vm6.mac, a.mac, [], 0x0800, udp('ISO-A-OWN', a.ip))]);
      },
      (s) => carrying(s.atVm6, 'ISO-A-OWN').length > 0,
    );
    assert.ok(carrying(seen.atHv, 'ISO-A-OWN').length > 0, `the control reaches the hypervisor:\n${show(seen.atHv)}`);
    assert.ok(carrying(seen.atVm6, 'ISO-A-OWN').length > 0, `the control reaches vm6:\n${show(seen.atVm6)}`);
    for (const mark of ['ISO-SUB', 'ISO-TAG', 'ISO-PRIO', 'ISO-QINQ', 'ISO-BCAST']) {
      assert.deepEqual(show(carrying(seen.atB, mark)), '', `${mark} at B`);
      assert.deepEqual(show(carrying(seen.atVm6, mark)), '', `${mark} at vm6`);
      // Whatever of it leaves the VM is in A's VLAN: the hypervisor takes it as A's, never B's.
      const out = carrying(seen.atHv, mark).filter((p) => p.vlan !== a.tag);
      assert.deepEqual(show(out), '', `${mark} left the VM outside VLAN ${a.tag}`);
    }
  } finally {
    if (made.code === 0) await ip('link', 'del', sub);
  }
});

test("(b) A spoofing B's MAC and IP untagged stops at A's port security", async () => {
  // vm6 knows B's MAC from the pings; Linux takes a new answer for it after locktime (1 s).
  await new Promise((r) => setTimeout(r, 1200));
  const seen = await watch(
    () =>
      sendFrames(a.ns, 'eth1', [
        ethernet(w.vm6.mac, b.mac, [], 0x0800, ipv4Udp(b.ip, w.vm6.ip, MARK_PORT, 'ISO-MACIP')),
        ethernet(w.vm6.mac, a.mac, [], 0x0800, ipv4Udp(b.ip, w.vm6.ip, MARK_PORT, 'ISO-IP')),
        ethernet(w.vm6.mac, a.mac, [], 0x0806, arpReply(a.mac, b.ip, w.vm6.mac, w.vm6.ip)),
        // The control, last: A as itself reaches vm6.
        ethernet(w.vm6.mac, a.mac, [], 0x0800, ipv4Udp(a.ip, w.vm6.ip, MARK_PORT, 'ISO-A-LAST')),
      ]),
    (s) => carrying(s.atVm6, 'ISO-A-LAST').length > 0,
  );
  assert.ok(carrying(seen.atVm6, 'ISO-A-LAST').length > 0, `the control reaches vm6:\n${show(seen.atVm6)}`);
  const arpLie = (p: Captured): boolean => p.header.includes(`Reply ${b.ip} is-at ${a.mac}`);
  for (const mark of ['ISO-MACIP', 'ISO-IP']) {
    const left = carrying(seen.atHv, mark);
    assert.ok(left.length > 0 && left.every((p) => p.vlan === a.tag), `${mark} leaves the VM in A's VLAN:\n${show(left)}`);
    assert.deepEqual(show(carrying(seen.atVm6, mark)), '', `${mark} at vm6`);
    assert.deepEqual(show(carrying(seen.atB, mark)), '', `${mark} at B`);
  }
  assert.ok(
    seen.atHv.some((p) => arpLie(p) && p.vlan === a.tag),
    `the ARP lie leaves the VM in A's VLAN:\n${show(seen.atHv)}`,
  );
  assert.deepEqual(show(seen.atVm6.filter(arpLie)), '', 'the ARP lie at vm6');
  const neigh = (await runOk('ip', ['-n', w.vm6Ns, 'neigh', 'show', b.ip])).trim();
  assert.doesNotMatch(neigh, new RegExp(a.mac), `vm6's neighbour entry for B: ${neigh}`);
});

test('(c) B still works: it reaches vm6 and A, vm6 reaches B at its own MAC; then everything is removed', async () => {
  await pings(b.ns, w.vm6.ip, 'B reaches vm6');
  await pings(b.ns, a.ip, 'B reaches A');
  await pings(vm6, b.ip, 'vm6 reaches B');
  const neigh = (await runOk('ip', ['-n', w.vm6Ns, 'neigh', 'show', b.ip])).trim();
  assert.match(neigh, new RegExp(`lladdr ${b.mac}`));
  for (const c of [a, b]) assert.deepEqual(await container('endpoint-delete', c.name), ['deleted neutron port']);
  const ids = (await w.vmOvs.vsctl('br-get-external-id', 'breth0')).split('\n').filter((l) => l !== '' && !l.startsWith('bridge-id='));
  assert.deepEqual(ids, [], 'breth0 external_ids');
  assert.deepEqual((await w.vmOvs.vsctl('list-ports', 'breth0')).trim().split('\n'), ['eth0'], 'breth0 ports');
  assert.equal((await w.dockerd.docker('ps', '-aq')).trim(), '', 'containers');
});
