/**
 * `ovnts lab` end to end, as a user runs it: it starts its own `ovnts up`,
 * builds the seed lab on a private OVS and prints one PASS line per DHCP and
 * ping step (3 leases, 9 pings), exit status 0; a ping target nobody has
 * (`--ping=`) gives FAIL lines and status 1; `--keep` leaves a working lab
 * that `--clean` removes; on running databases (`--nb`/`--sb`) it removes
 * only its own NB objects and chassis; SIGTERM in the middle tears down. After each, no
 * namespace, process or file of the run is left (every lab process names the
 * run's directory on its command line, so `ps` finds any survivor).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { cleanupAll, run, spawnDaemon, tmpDir, waitFor, type RunResult } from '../helpers/proc.js';

after(cleanupAll);

const STEPS = [
  'dhcp vm5: 172.16.255.132/26',
  'ping vm5 -> router 172.16.255.129',
  'ping vm5 -> c51 172.16.255.133',
  'ping vm5 -> c52 172.16.255.134',
  'dhcp c51: 172.16.255.133/26',
  'ping c51 -> router 172.16.255.129',
  'ping c51 -> vm5 172.16.255.132',
  'ping c51 -> c52 172.16.255.134',
  'dhcp c52: 172.16.255.134/26',
  'ping c52 -> router 172.16.255.129',
  'ping c52 -> vm5 172.16.255.132',
  'ping c52 -> c51 172.16.255.133',
];

/** The run id `ovnts lab` printed first. */
function labId(out: string): string {
  const id = /^lab (l[0-9a-f]{6}):/m.exec(out)?.[1];
  assert.ok(id, `no lab id in:\n${out}`);
  return id;
}

/** What a run may leave behind: its namespaces, processes naming `base`, files in `base`, /etc/netns entries. */
async function leftovers(base: string, id: string): Promise<string[]> {
  const out: string[] = [];
  const ns = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${id}-`));
  out.push(...ns.map((n) => `namespace ${n}`));
  const ps = (await run('ps', ['-eo', 'pid=,args='])).stdout.split('\n').filter((l) => l.includes(`${base}/`));
  out.push(...ps.map((p) => `process ${p.trim()}`));
  if (existsSync(base)) out.push(...readdirSync(base).map((f) => `file ${join(base, f)}`));
  if (existsSync('/etc/netns'))
    out.push(
      ...readdirSync('/etc/netns')
        .filter((n) => n.startsWith(`${id}-`))
        .map((n) => `/etc/netns/${n}`),
    );
  return out;
}

function lab(base: string, ...args: string[]): Promise<RunResult> {
  return run(OVNTS, ['lab', `--dir=${base}`, ...args], { timeoutMs: 180_000 });
}

test('ovnts lab: every DHCP and ping step passes on ovnts up, exit 0, nothing left behind', { timeout: 200_000 }, async (t) => {
  const tmp = tmpDir('ovnts-lab-cmd');
  try {
    const r = await lab(tmp.path);
    const id = labId(r.stdout);
    t.diagnostic(r.stdout.split('\n').find((l) => l.startsWith('timings')) ?? '');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const pass = r.stdout.split('\n').filter((l) => l.startsWith('PASS '));
    assert.deepEqual(
      pass.map((l) => l.replace(/^PASS /, '').replace(/: \d+\/\d+ replies$/, '')),
      STEPS,
    );
    assert.doesNotMatch(r.stdout, /^FAIL /m);
    assert.match(r.stdout, /^seed lab: all steps passed$/m);
    assert.deepEqual(await leftovers(tmp.path, id), []);
  } finally {
    tmp.cleanup();
  }
});

test('ovnts lab --ping to an address nobody has: FAIL lines, exit 1, nothing left behind', { timeout: 200_000 }, async () => {
  const tmp = tmpDir('ovnts-lab-cmd');
  try {
    // In the lab's subnet, but no port has it: nothing answers.
    const r = await lab(tmp.path, '--ping=172.16.255.140');
    const id = labId(r.stdout);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const fail = r.stdout.split('\n').filter((l) => l.startsWith('FAIL '));
    assert.deepEqual(
      fail.map((l) => l.replace(/: \d+\/\d+ replies$/, '')),
      ['FAIL ping vm5 -> address 172.16.255.140', 'FAIL ping c51 -> address 172.16.255.140', 'FAIL ping c52 -> address 172.16.255.140'],
    );
    // The real steps still pass.
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('PASS ')).length, STEPS.length);
    assert.match(r.stdout, /^seed lab: 3 step\(s\) failed$/m);
    assert.deepEqual(await leftovers(tmp.path, id), []);
  } finally {
    tmp.cleanup();
  }
});

test('ovnts lab --keep leaves a working lab; --clean removes it', { timeout: 200_000 }, async () => {
  const tmp = tmpDir('ovnts-lab-cmd');
  let id: string | undefined;
  try {
    const r = await lab(tmp.path, '--keep');
    id = labId(r.stdout);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    // Still running after the command exited: vm5 reaches c52 through the kept OVS and ovnts up.
    const ping = await run('ip', ['netns', 'exec', `${id}-vm5`, 'ping', '-c', '1', '-w', '10', '172.16.255.134']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.notDeepEqual(await leftovers(tmp.path, id), []);
    const c = await lab(tmp.path, '--clean');
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, new RegExp(`removed lab ${id}`));
    assert.deepEqual(await leftovers(tmp.path, id), []);
    assert.match((await lab(tmp.path, '--clean')).stdout, /no lab to remove/);
  } finally {
    if (id !== undefined && existsSync(tmp.path)) await lab(tmp.path, '--clean');
    tmp.cleanup();
  }
});

test(
  'ovnts lab --nb --sb on running databases: passes with its own controller, then removes its NB objects and chassis',
  { timeout: 200_000 },
  async () => {
    const tmp = tmpDir('ovnts-lab-cmd');
    const central = join(tmp.path, 'central');
    const base = join(tmp.path, 'runs');
    const pidfile = join(central, 'up.pid');
    const up = await spawnDaemon(OVNTS, ['up', '--no-controller', `--rundir=${central}`, `--dbdir=${central}`, `--pidfile=${pidfile}`], {
      name: 'ovnts up --no-controller',
      readyWhen: async () => existsSync(pidfile),
    });
    const nb = `unix:${join(central, 'ovnnb_db.sock')}`;
    const sb = `unix:${join(central, 'ovnsb_db.sock')}`;
    try {
      await run(OVNTS, ['nbctl', `--db=${nb}`, 'ls-add', 'unrelated']);
      const r = await lab(base, `--nb=${nb}`, `--sb=${sb}`);
      const id = labId(r.stdout);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('PASS ')).length, STEPS.length, r.stdout);
      assert.deepEqual(await leftovers(base, id), []);
      // Only what the lab added is gone: the switch that was there stays.
      assert.equal((await run(OVNTS, ['nbctl', `--db=${nb}`, 'ls-list'])).stdout.replace(/^\S+ /gm, ''), '(unrelated)\n');
      assert.equal((await run(OVNTS, ['nbctl', `--db=${nb}`, 'list', 'DHCP_Options'])).stdout, '');
      assert.equal((await run(OVNTS, ['sbctl', `--db=${sb}`, '--bare', '--columns=name', 'list', 'Chassis'])).stdout, '');
    } finally {
      await up.stop();
      tmp.cleanup();
    }
  },
);

test('SIGTERM while ovnts lab builds: it tears down what exists and exits 143', { timeout: 200_000 }, async () => {
  const tmp = tmpDir('ovnts-lab-cmd');
  const d = await spawnDaemon(OVNTS, ['lab', `--dir=${tmp.path}`], { name: 'ovnts lab' });
  try {
    // Once the namespaces exist, the lab owns OVS, ovnts up and namespaces: all of it must go.
    await waitFor(() => /namespaces l[0-9a-f]{6}-vm5/.test(d.output()), { what: 'the lab to build the namespaces', timeoutMs: 60_000 });
    const id = labId(d.output());
    d.process.kill('SIGTERM');
    await d.exited;
    assert.equal(d.process.exitCode, 143, d.output());
    assert.deepEqual(await leftovers(tmp.path, id), []);
  } finally {
    await d.stop();
    tmp.cleanup();
  }
});
