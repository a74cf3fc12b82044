/**
 * Clients given a remote that does not exist, refuses, or accepts and never
 * answers: nbctl, sbctl and trace against ovn-nbctl, ovn-sbctl and ovn-trace on
 * the same command line (exit status or signal, and the message), and the
 * container tools (ovn-container, ovn-integrate, ovnts-cni), which must fail
 * promptly with a message naming the remote and the reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { OVNTS, REPO } from '../helpers/ovsdb-servers.js';
import { cleanupAll, onCleanup, run, tmpDir, type RunResult } from '../helpers/proc.js';
import { startOvs } from '../helpers/ovs.js';

after(cleanupAll);

let dir = '';
/** A unix socket that accepts and never answers. */
let frozen = '';
/** A TCP port that accepts and never answers. */
let frozenPort = 0;
/** A TCP port nothing listens on. */
let closedPort = 0;

async function silent(listen: (s: Server) => Promise<void>): Promise<Server> {
  const sockets = new Set<Socket>();
  const s = createServer((c) => {
    sockets.add(c);
    c.on('error', () => undefined);
  });
  await listen(s);
  onCleanup(async () => {
    for (const c of sockets) c.destroy();
    await new Promise((r) => s.close(r));
  });
  return s;
}

before(async () => {
  dir = tmpDir('ovnts-clients').path;
  frozen = join(dir, 'frozen.sock');
  await silent((s) => new Promise((r) => s.listen(frozen, r)));
  const tcp = await silent((s) => new Promise((r) => s.listen(0, '127.0.0.1', r)));
  frozenPort = (tcp.address() as { port: number }).port;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
});

const lastLine = (r: RunResult): string => (r.stderr.trimEnd().split('\n').pop() ?? '').replace(/^\S+\|\d+\|/, '');
/** How a client ended: its status, or the signal that ended it (ovn-nbctl's --timeout is SIGALRM). */
const ending = (r: RunResult): string =>
  r.signal !== null ? r.signal : r.code !== null && r.code > 128 ? `signal ${r.code - 128}` : `status ${r.code}`;

interface Diff {
  readonly real: string;
  readonly ours: readonly string[];
  readonly args: (remote: string) => string[];
}

const TOOLS: Diff[] = [
  { real: 'ovn-nbctl', ours: ['nbctl'], args: (db) => [`--db=${db}`, 'ls-list'] },
  { real: 'ovn-nbctl', ours: ['nbctl'], args: (db) => [`--db=${db}`, '--timeout=1', 'ls-add', 'sw0'] },
  { real: 'ovn-sbctl', ours: ['sbctl'], args: (db) => [`--db=${db}`, '--timeout=1', 'show'] },
  { real: 'ovn-trace', ours: ['trace'], args: (db) => [`--db=${db}`, 'sw0', 'inport == "p0"'] },
];

const REMOTES: Array<{ what: string; remote: () => string; frozen?: boolean }> = [
  { what: 'no socket', remote: () => `unix:${dir}/missing.sock` },
  { what: 'connection refused', remote: () => `tcp:127.0.0.1:${closedPort}` },
  { what: 'accepts, never answers', remote: () => `unix:${frozen}`, frozen: true },
];

for (const t of TOOLS)
  for (const r of REMOTES) {
    const args = (): string[] => t.args(r.remote());
    const timed = t.args('x').some((a) => a.startsWith('--timeout'));
    // Without --timeout the real tools wait for a frozen server for ever: nothing to compare.
    if (r.frozen && !timed) continue;
    test(`${t.ours.join(' ')} ${t.args('DB').join(' ')}, ${r.what}: ends as ${t.real} does`, { timeout: 60_000 }, async () => {
      const [real, ours] = await Promise.all([
        run(t.real, args(), { timeoutMs: 20_000 }),
        run(OVNTS, [...t.ours, ...args()], { timeoutMs: 20_000 }),
      ]);
      assert.equal(ours.timedOut, false, 'ours ended by itself');
      assert.equal(real.timedOut, false, 'the real one ended by itself');
      assert.equal(ending(ours), ending(real), `ours: ${ours.stderr}\nreal: ${real.stderr}`);
      // The real tools' log prefix (time|seq|) is not part of the message.
      assert.equal(lastLine(ours).replace(/^ovnts trace:/, 'ovn-trace:'), lastLine(real));
      assert.doesNotMatch(ours.stderr, /\n\s+at /, 'no stack trace');
    });
  }

const BIN = (name: string): string => join(REPO, 'bin', name);

test(
  'ovn-container and ovn-integrate: a missing or refusing OVS database fails at once, a frozen one at the timeout, each named',
  { timeout: 60_000 },
  async () => {
    const cases: Array<[string, string[], RegExp, number]> = [
      [
        'ovn-container',
        [`--db=unix:${dir}/missing.sock`, 'net-list'],
        /cannot connect to the Open vSwitch database at unix:.*missing\.sock \(No such file or directory\)/,
        4000,
      ],
      [
        'ovn-container',
        [`--db=tcp:127.0.0.1:${closedPort}`, 'net-list'],
        /cannot connect to the Open vSwitch database at tcp:127\.0\.0\.1:\d+ \(Connection refused\)/,
        4000,
      ],
      [
        'ovn-container',
        [`--db=unix:${frozen}`, 'net-list'],
        /cannot connect to the Open vSwitch database at unix:.*frozen\.sock \(no answer\)/,
        9000,
      ],
      [
        'ovn-integrate',
        [`--db=unix:${dir}/missing.sock`, 'set-tep', '192.0.2.1'],
        /database connection failed \(No such file or directory\)/,
        4000,
      ],
    ];
    for (const [tool, args, message, withinMs] of cases) {
      const t0 = Date.now();
      const r = await run(BIN(tool), args, { timeoutMs: 20_000 });
      const ms = Date.now() - t0;
      assert.equal(r.code, 1, `${tool} ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout + r.stderr, message);
      assert.ok(ms < withinMs, `${tool} ${args.join(' ')} took ${ms} ms`);
    }
  },
);

test(
  'ovnts-cni: an IPAM that refuses is CNI error 11 at once, one that never answers is named when the request times out',
  { timeout: 60_000 },
  async () => {
    // A real Open vSwitch database, so the IPAM is what fails (the plugin reaches OVS first).
    const ovs = await startOvs();
    onCleanup(() => ovs.stop());
    const add = (endpoint: string): Promise<RunResult> =>
      run(BIN('ovnts-cni'), [], {
        input: JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'ovnts-cni', endpoint, network: 'net0', ovs_db: ovs.dbRemote }),
        env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: `${dir}/no-netns`, CNI_IFNAME: 'eth0', CNI_PATH: dir },
        timeoutMs: 45_000,
      });
    const t0 = Date.now();
    const refused = await add(`http://127.0.0.1:${closedPort}`);
    assert.ok(Date.now() - t0 < 5000, 'prompt');
    assert.equal(refused.code, 1);
    const e1 = JSON.parse(refused.stdout) as { code: number; msg: string };
    assert.equal(e1.code, 11);
    assert.match(e1.msg, /^IPAM unreachable: .*ECONNREFUSED/);
    const hung = await add(`http://127.0.0.1:${frozenPort}`);
    assert.equal(hung.code, 1);
    const e2 = JSON.parse(hung.stdout) as { code: number; msg: string };
    assert.equal(e2.code, 11);
    assert.match(e2.msg, /^IPAM unreachable: GET http:\/\/127\.0\.0\.1:\d+\/.* no answer within 30 s$/);
  },
);
