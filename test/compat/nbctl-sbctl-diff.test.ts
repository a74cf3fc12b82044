/**
 * Differential corpus for `ovnts sbctl` against the real `ovn-sbctl`: each line
 * runs through both tools, each against its own server of one kind in the same
 * state (setup through the real tool); stdout (records and show blocks sorted
 * UUID-blind, UUIDs numbered), stderr and exit status must match.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { OVNTS, SB_SCHEMA, startServer, type RunningServer, type ServerKind } from '../helpers/ovsdb-servers.js';
import { normalizeUuids } from '../helpers/normalize.js';

interface Outcome {
  stdout: string;
  stderr: string;
  code: number;
}

function exec(cmd: string, args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ stdout, stderr, code });
    });
  });
}
const real = (remote: string, args: string[]): Promise<Outcome> => exec('ovn-sbctl', [`--db=${remote}`, ...args]);
const ours = (remote: string, args: string[]): Promise<Outcome> => exec(process.execPath, [OVNTS, 'sbctl', `--db=${remote}`, ...args]);
const stableErr = (s: string): string => normalizeUuids(s.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|\d+\|/gm, 'TS|'));

const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const blind = (s: string): string => s.replace(UUID_G, 'U');
const byBlind = (x: string, y: string): number => (blind(x) < blind(y) ? -1 : blind(x) > blind(y) ? 1 : 0);

/** list/find records and table rows in hash order: sorted UUID-blind, then UUIDs numbered. */
function stableOutput(out: string): string {
  const text = out.trimEnd();
  if (text.includes('\n\n')) return normalizeUuids(text.split('\n\n').sort(byBlind).join('\n\n'));
  return normalizeUuids(text.split('\n').sort(byBlind).join('\n'));
}

/** `show` output: Chassis blocks and their children sorted UUID-blind. */
function stableShow(out: string): string {
  const blocks = out
    .trimEnd()
    .split(/\n(?=Chassis )/)
    .map((b) => {
      const [head, ...kids] = b.split(/\n(?= {4}\S)/);
      return [head, ...kids.sort()].join('\n');
    });
  return blocks.sort().join('\n');
}

const SETUP: string[][] = [
  ['chassis-add', 'ch1', 'geneve', '192.0.2.1'],
  ['create', 'Datapath_Binding', 'tunnel_key=1', 'external_ids:name=sw0'],
];

const CASES: string[][] = [
  ['show'],
  ['chassis-add', 'ch2', 'geneve,vxlan', '192.0.2.2'],
  ['chassis-add', 'ch1', 'geneve', '192.0.2.1'],
  ['--may-exist', 'chassis-add', 'ch1', 'geneve', '192.0.2.1'],
  ['show'],
  ['list', 'Chassis', 'ch1'],
  ['--columns=type,ip,options', 'list', 'Encap'],
  ['-f', 'csv', '--columns=name,encaps', 'list', 'Chassis', 'ch1'],
  ['find', 'Encap', 'type=vxlan'],
  ['get', 'Chassis', 'ch2', 'name', 'hostname'],
  ['set', 'Chassis', 'ch2', 'hostname=host2', 'external_ids:k=v'],
  ['get', 'Chassis', 'ch2', 'hostname', 'external_ids'],
  ['lsp-bind', 'nope', 'ch1'],
  ['chassis-del', 'ch2'],
  ['chassis-del', 'nope'],
  ['--if-exists', 'chassis-del', 'nope'],
  ['lsp-unbind', 'nope'],
  ['--if-exists', 'lsp-unbind', 'nope'],
  ['lflow-list'],
  ['lflow-list', 'nope'],
  ['list', 'Nope'],
  ['bogus'],
  ['show'],
];

for (const kind of ['real', 'ovnts'] as ServerKind[]) {
  describe(`ovnts sbctl vs ovn-sbctl on ${kind} ovsdb-server`, () => {
    let a: RunningServer & { cleanup(): Promise<void> };
    let b: RunningServer & { cleanup(): Promise<void> };
    before(async () => {
      [a, b] = await Promise.all([startServer(kind, [SB_SCHEMA]), startServer(kind, [SB_SCHEMA])]);
      for (const s of [a, b]) {
        for (const line of SETUP) {
          const r = await real(s.remote, line);
          assert.equal(r.code, 0, `setup ${line.join(' ')}: ${r.stderr}`);
        }
      }
    });
    after(async () => {
      await Promise.all([a?.cleanup(), b?.cleanup()]);
    });
    for (const line of CASES) {
      test(line.join(' '), async () => {
        const [want, got] = await Promise.all([real(a.remote, line), ours(b.remote, line)]);
        const norm = line[0] === 'show' ? stableShow : stableOutput;
        assert.equal(stableErr(got.stderr), stableErr(want.stderr), 'stderr');
        assert.equal(norm(got.stdout), norm(want.stdout), 'stdout');
        assert.equal(got.code, want.code, 'exit status');
      });
    }
  });
}
