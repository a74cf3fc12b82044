/**
 * Fuzz: what a CNI runtime hands the plugin (src/cni): the CNI_* environment
 * and the network configuration on stdin. Every invocation ends with exit 0
 * and a result, or exit 1 and the spec's error JSON (`cniVersion`, a
 * well-known `code`, `msg`; SPEC.md "Error") — never a throw, never a stack
 * trace in the message. Inputs: every command, odd CNI_ARGS, container ids,
 * interface names and netns paths; configurations that are not JSON, not
 * objects, or objects with wrong types, unknown versions, bad endpoints,
 * nested mode without its VM port, odd runtimeConfig, prevResult and
 * attachments. Endpoints and the OVS database point at nothing that
 * answers (a closed port, a socket that does not exist), netns paths at
 * nothing: a configuration that parses fails at its first contact, as the
 * runtime would see it with the IPAM down.
 *
 * And the names that reach a shell (CNI_IFNAME, the config's ovs_netns) are
 * passed as data: an interface name holding `;id>FILE` creates no file.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { cleanupAll, tmpDir } from '../helpers/proc.js';
import { createNetns, deleteNetns, runId } from '../helpers/netns.js';
import { runPlugin } from '../../src/cni/plugin.js';
import { CNI_CODE } from '../../src/cni/errors.js';
import { FuzzFailure, fuzz, fuzzTimeoutMs } from './fuzz-env.js';

after(cleanupAll);

const CODES = new Set<number>(Object.values(CNI_CODE));

function checkOutput(out: { stdout: string; exitCode: number }, what: string): void {
  if (out.exitCode === 0) return;
  if (out.exitCode !== 1) throw new FuzzFailure(`exit ${out.exitCode}: ${what}`);
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(out.stdout) as Record<string, unknown>;
  } catch {
    throw new FuzzFailure(`error output is not JSON: ${out.stdout.slice(0, 200)} (${what})`);
  }
  if (typeof e['cniVersion'] !== 'string' || typeof e['msg'] !== 'string' || typeof e['code'] !== 'number' || !CODES.has(e['code']))
    throw new FuzzFailure(`not a CNI error: ${out.stdout.slice(0, 300)} (${what})`);
  if (/\n\s+at /.test(`${String(e['msg'])}${String(e['details'] ?? '')}`))
    throw new FuzzFailure(`stack trace in the error: ${out.stdout.slice(0, 300)}`);
}

const dir = tmpDir('ovnts-fuzz-cni');
const DEAD_DB = `unix:${join(dir.path, 'nothing.sock')}`;
const name = fc.oneof(
  fc.constantFrom('eth0', 'net1', '', '.', '..', 'a/b', 'a:b', 'a b', 'x'.repeat(16), ';id', '$(id)'),
  fc.string({ maxLength: 16 }),
);
const env = fc.record({
  CNI_COMMAND: fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom('ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC') },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  ),
  CNI_CONTAINERID: fc.oneof(fc.constantFrom('c1', 'abc-123', '', '-x', 'a b', 'ü'), fc.string({ maxLength: 20 })),
  CNI_NETNS: fc.oneof(
    fc.constantFrom(join(dir.path, 'no-netns'), '', '/run/netns/nosuch-fz', 'relative'),
    fc.string({ maxLength: 20 }).map((s) => join(dir.path, s)),
  ),
  CNI_IFNAME: name,
  CNI_ARGS: fc.oneof(
    fc.constant(undefined),
    fc
      .array(fc.tuple(fc.constantFrom('IP', 'MAC', 'K8S_POD_NAME', '', 'x'), fc.string({ maxLength: 12 })), { maxLength: 3 })
      .map((kv) => kv.map(([k, v]) => `${k}=${v}`).join(';')),
    fc.string({ maxLength: 10 }),
  ),
  CNI_PATH: fc.constant('/opt/cni/bin'),
});

const val = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('', 'x', 0, -1, 1.5, true, null, [], {}));
const conf = fc
  .record(
    {
      cniVersion: fc.oneof(fc.constantFrom('0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0', '0.2.0', '2.0.0', ''), val),
      name: fc.oneof(fc.constantFrom('net1', 'podman'), val),
      type: fc.constant('ovnts-cni'),
      endpoint: fc.oneof(fc.constantFrom('http://127.0.0.1:1', 'not a url', 'ftp://127.0.0.1:1/', 'http://[::1]:1'), val),
      network: fc.oneof(fc.constantFrom('net1', 'x'), val),
      mode: fc.oneof(fc.constantFrom('host', 'nested', 'bridge'), val),
      vif_id: fc.oneof(fc.uuid(), val),
      bridge: fc.oneof(fc.constantFrom('br-int'), val),
      ovs_db: fc.oneof(fc.constant(DEAD_DB), val),
      ovs_netns: fc.oneof(fc.constantFrom('/run/netns/nosuch-fz', '/proc/999999999/ns/net', join(dir.path, 'x')), val),
      install_timeout_ms: fc.oneof(fc.constantFrom(50, 0, -1, 1.5, 2 ** 53), val),
      auth: fc.oneof(
        fc.record(
          {
            auth_url: fc.oneof(fc.constant('http://127.0.0.1:1/v3'), val),
            username: val,
            password: val,
            project_id: val,
            user_domain: val,
          },
          { requiredKeys: [] },
        ),
        val,
      ),
      runtimeConfig: fc.oneof(
        fc.record(
          {
            ips: fc.oneof(fc.array(fc.constantFrom('10.0.0.5/24', 'x', '::1')), val),
            mac: fc.oneof(fc.constantFrom('02:00:00:00:00:01', 'zz'), val),
          },
          { requiredKeys: [] },
        ),
        val,
      ),
      prevResult: fc.oneof(fc.record({ interfaces: val, ips: val, cniVersion: val }, { requiredKeys: [] }), val),
      'cni.dev/valid-attachments': fc.oneof(
        fc.array(fc.record({ containerID: val, ifname: val }, { requiredKeys: [] }), { maxLength: 3 }),
        val,
      ),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));
const stdin = fc.oneof(
  { weight: 8, arbitrary: conf },
  { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`) },
);

test('fuzz: every CNI invocation ends with a result or the spec error JSON', { timeout: fuzzTimeoutMs(2_000, 100) }, async () => {
  await fuzz(
    'cni-plugin',
    fc.record({ env, stdin }),
    async ({ env: e, stdin: text }) => {
      const full: NodeJS.ProcessEnv = { PATH: process.env['PATH'], OVS_RUNDIR: dir.path };
      for (const [k, v] of Object.entries(e)) if (v !== undefined) full[k] = v;
      const out = await runPlugin(full, text);
      checkOutput(out, `${JSON.stringify(e)} ${text.slice(0, 200)}`);
    },
    { smokeRuns: 2_000, hangMs: 15_000, concurrency: 4 },
  );
});

test('names from the runtime and the config reach no shell as code', { timeout: 120_000 }, async () => {
  const id = runId();
  const ns = await createNetns(`${id}-cni`);
  const ovsNs = await createNetns(`${id}-cno`);
  // Interface names are at most 15 characters: the marks are relative, made in the shell's working directory (this one).
  const marks = [join(process.cwd(), 'fzq1'), join(process.cwd(), 'fzq2')];
  try {
    // A valid configuration with the IPAM down: the veth is made (in private namespaces) while the IPAM is asked.
    const confOf = (ovsNetns: string): string =>
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'fz',
        type: 'ovnts-cni',
        endpoint: 'http://127.0.0.1:1',
        network: 'n',
        ovs_db: DEAD_DB,
        ovs_netns: ovsNetns,
      });
    const base = { PATH: process.env['PATH'], CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: `/run/netns/${ns}` };
    const a = await runPlugin({ ...base, CNI_IFNAME: ';id>fzq1' }, confOf(`/run/netns/${ovsNs}`));
    checkOutput(a, 'ifname injection');
    const b = await runPlugin({ ...base, CNI_IFNAME: 'eth0' }, confOf(`/run/netns/${ovsNs};id>fzq2`));
    checkOutput(b, 'ovs_netns injection');
    assert.equal(a.exitCode, 1);
    assert.equal(b.exitCode, 1);
    for (const m of marks) assert.equal(existsSync(m), false, `${m} was created by a shell`);
  } finally {
    for (const m of marks) rmSync(m, { force: true });
    await deleteNetns(ns);
    await deleteNetns(ovsNs);
  }
});

test('a configuration nested deeper than Go decodes is undecodable (code 6) in ovnts-cni as in the reference bridge plugin', async () => {
  const bridge = ['/usr/lib/cni/bridge', '/opt/cni/bin/bridge'].find((p) => existsSync(p));
  assert.ok(bridge !== undefined, 'the reference plugins (containernetworking-plugins) are installed');
  const env = {
    PATH: process.env['PATH'],
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'c1',
    CNI_NETNS: join(dir.path, 'no-netns'),
    CNI_IFNAME: 'eth0',
    CNI_PATH: dirname(bridge),
  };
  const codeOf = (stdout: string): unknown => (JSON.parse(stdout) as { code?: unknown }).code;
  const deep = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  // Brackets inside strings (after an escaped quote too) open nothing.
  const texts = [deep(10_000), deep(10_001), deep(100_000), `{"name":"${'{'.repeat(20_000)}"}`, `{"name":"\\"${'['.repeat(20_000)}"}`];
  for (const text of texts) {
    const what = text.slice(0, 24);
    const real: SpawnSyncReturns<string> = spawnSync(bridge, [], { input: text, env, encoding: 'utf8' });
    const ours = await runPlugin(env, text);
    assert.equal(ours.exitCode, 1);
    assert.equal(
      codeOf(ours.stdout) === CNI_CODE.DECODE_FAILURE,
      codeOf(real.stdout) === CNI_CODE.DECODE_FAILURE,
      `${what}…: ${ours.stdout} vs ${real.stdout}`,
    );
  }
});
