/**
 * Start-up failures, per daemon: a missing run directory (for the pid file, for
 * the default control socket, for `--unixctl`), a socket or port in use or
 * unusable, a corrupt, missing or non-file database, a missing schema. Each is
 * one line on stderr naming the problem, status 1, no stack trace, nothing left
 * behind; where the real tool exists it runs on the same arguments and its
 * last line (it logs to stderr before) must be ours, word for word.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { OVNTS, NB_SCHEMA, SB_SCHEMA, startServer, type RunningServer } from '../helpers/ovsdb-servers.js';
import { cleanupAll, run, runOk, tmpDir } from '../helpers/proc.js';

after(cleanupAll);

let dir = '';
let busyPort = 0;
let busy: Server | undefined;
let live: (RunningServer & { cleanup(): Promise<void> }) | undefined;
before(async () => {
  dir = tmpDir('ovnts-startup').path;
  await runOk('ovsdb-tool', ['create', join(dir, 'nb.db'), NB_SCHEMA]);
  writeFileSync(join(dir, 'corrupt.db'), 'this is not an OVSDB file\n');
  mkdirSync(join(dir, 'a-directory'));
  mkdirSync(join(dir, 'corrupt-dbdir'));
  writeFileSync(join(dir, 'corrupt-dbdir', 'ovnnb_db.db'), 'OVSDB JSON 5 0\n{not json\n');
  busy = createServer();
  await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as { port: number }).port;
  // NB and SB for the ui: its listener comes after its databases answer.
  live = await startServer('ovnts', [NB_SCHEMA, SB_SCHEMA]);
});
after(async () => {
  busy?.close();
  await live?.cleanup();
});

interface Case {
  readonly daemon: string;
  readonly failure: string;
  /** `ovnts` arguments; `D` in them is the test's directory. */
  readonly args: readonly string[];
  /** The real tool's command line on the same input, when there is one. */
  readonly real?: readonly string[];
  /** Our line, when there is no real tool to compare with (or on top of it). */
  readonly expect?: RegExp;
  readonly env?: Readonly<Record<string, string>>;
  /** It has logged its start on stderr (no --log-file) before the failure: only the last line is the failure. */
  readonly logsFirst?: boolean;
}

const MISSING = 'no-such-dir';
const PIDFILE = `--pidfile=D/${MISSING}/x.pid`;
const CTL = `--unixctl=D/${MISSING}/x.ctl`;
const NB = '--ovnnb-db=unix:D/nb.sock';
const SB = '--ovnsb-db=unix:D/sb.sock';

const CASES: Case[] = [
  // The pid file's directory: the OVS daemons make FILE.tmp before anything else.
  {
    daemon: 'ovsdb-server',
    failure: 'missing run directory',
    args: ['ovsdb-server', PIDFILE, 'D/nb.db'],
    real: ['ovsdb-server', PIDFILE, 'D/nb.db'],
  },
  { daemon: 'northd', failure: 'missing run directory', args: ['northd', PIDFILE, NB, SB], real: ['ovn-northd', PIDFILE, NB, SB] },
  {
    daemon: 'controller',
    failure: 'missing run directory',
    args: ['controller', PIDFILE, 'unix:D/db.sock'],
    real: ['ovn-controller', PIDFILE, 'unix:D/db.sock'],
  },
  {
    daemon: 'ipam',
    failure: 'missing run directory',
    args: ['ipam', PIDFILE, NB, '--listen=127.0.0.1:0'],
    expect: /^ovnts-ipam: .*\/x\.pid\.tmp: create failed \(No such file or directory\)$/,
  },
  {
    daemon: 'docker-plugin',
    failure: 'missing run directory',
    args: ['docker-plugin', PIDFILE, '--socket=D/plugin.sock', '--ipam=http://127.0.0.1:9'],
    expect: /^ovnts-docker-plugin: .*\/x\.pid\.tmp: create failed \(No such file or directory\)$/,
  },
  {
    daemon: 'up',
    failure: 'missing run directory',
    args: ['up', PIDFILE, '--rundir=D/up', '--dbdir=D/up', '--no-ipam'],
    expect: /^ovnts up: .*\/x\.pid\.tmp: create failed \(No such file or directory\)$/,
  },
  {
    daemon: 'ui',
    failure: 'missing run directory',
    args: ['ui', PIDFILE, 'NB_LIVE', 'SB_LIVE', '--listen=127.0.0.1:0'],
    expect: /^ovnts-ui: .*\/x\.pid\.tmp: create failed \(No such file or directory\)$/,
  },
  {
    daemon: 'cni-agent',
    failure: 'missing run directory',
    args: ['cni-agent', PIDFILE, '--socket=D/cni.sock'],
    expect: /^ovnts-cni-agent: .*\/x\.pid\.tmp: create failed \(No such file or directory\)$/,
  },
  // A run directory that cannot be made: mkdir(2) says ENOENT under /proc, where Node's recursive mkdir loops forever.
  {
    daemon: 'up',
    failure: 'run directory that cannot be made (/proc/x)',
    args: ['up', '--rundir=/proc/ovnts-no-such-dir', '--dbdir=D/up5', '--no-controller', '--no-ipam'],
    expect: /^ovnts up: \/proc\/ovnts-no-such-dir: mkdir failed \(No such file or directory\)$/,
  },
  // $OVN_RUNDIR missing: the default control socket cannot be made.
  {
    daemon: 'northd',
    failure: 'missing $OVN_RUNDIR',
    args: ['northd', NB, SB],
    real: ['ovn-northd', NB, SB],
    env: { OVN_RUNDIR: `D/${MISSING}` },
  },
  {
    daemon: 'controller',
    failure: 'missing $OVN_RUNDIR',
    args: ['controller', 'unix:D/db.sock'],
    real: ['ovn-controller', 'unix:D/db.sock'],
    env: { OVN_RUNDIR: `D/${MISSING}` },
  },
  // --unixctl in a directory that does not exist.
  {
    daemon: 'ovsdb-server',
    failure: '--unixctl in a missing directory',
    args: ['ovsdb-server', CTL, 'D/nb.db'],
    real: ['ovsdb-server', CTL, 'D/nb.db'],
  },
  { daemon: 'northd', failure: '--unixctl in a missing directory', args: ['northd', CTL, NB, SB], real: ['ovn-northd', CTL, NB, SB] },
  {
    daemon: 'ipam',
    failure: '--unixctl in a missing directory',
    args: ['ipam', CTL, NB, '--listen=127.0.0.1:0'],
    expect: /^ovnts-ipam: .*\/x\.ctl: could not initialize control socket \(No such file or directory\)$/,
  },
  {
    daemon: 'up',
    failure: '--unixctl in a missing directory',
    args: ['up', CTL, '--rundir=D/up2', '--dbdir=D/up2', '--no-controller', '--no-ipam'],
    expect: /^ovnts up: .*\/x\.ctl: could not initialize control socket \(No such file or directory\)$/,
  },
  // Listeners: a port in use, a socket in a missing directory.
  {
    daemon: 'ovsdb-server',
    failure: 'port in use',
    args: ['ovsdb-server', 'REMOTE_BUSY', '--unixctl=D/s1.ctl', 'D/nb.db'],
    expect: /^ovsdb-server: ptcp:\d+:127\.0\.0\.1: listen failed \(Address already in use\)$/,
  },
  {
    daemon: 'ovsdb-server',
    failure: 'socket in a missing directory',
    args: ['ovsdb-server', `--remote=punix:D/${MISSING}/db.sock`, '--unixctl=D/s2.ctl', 'D/nb.db'],
    expect: /^ovsdb-server: punix:.*\/db\.sock: listen failed \(No such file or directory\)$/,
  },
  {
    daemon: 'up',
    failure: '--ipam port in use',
    args: ['up', '--rundir=D/up3', '--dbdir=D/up3', '--no-controller', 'IPAM_BUSY'],
    logsFirst: true,
    expect: /^ovnts up: --ipam=127\.0\.0\.1:\d+: .*(EADDRINUSE|Address already in use)/,
  },
  {
    daemon: 'ui',
    failure: 'port in use',
    args: ['ui', 'LISTEN_BUSY', 'NB_LIVE', 'SB_LIVE'],
    expect: /^ovnts-ui: --listen=127\.0\.0\.1:\d+: address already in use$/,
  },
  // The agent replaces a socket left at its path, as OVS's punix does; what is at the path and not a socket stays.
  {
    daemon: 'cni-agent',
    failure: 'socket path taken by a directory',
    args: ['cni-agent', '--socket=D/a-directory'],
    expect: /^ovnts-cni-agent: cannot serve on .*\/a-directory: .*EADDRINUSE/,
  },
  {
    daemon: 'cni-agent',
    failure: 'socket directory that cannot be made (/proc/x)',
    args: ['cni-agent', '--socket=/proc/ovnts-no-such-dir/cni.sock'],
    expect:
      /^ovnts-cni-agent: cannot serve on \/proc\/ovnts-no-such-dir\/cni\.sock: \/proc\/ovnts-no-such-dir: mkdir failed \(No such file or directory\)$/,
  },
  // Bad options: the option parser's line, before anything is opened.
  { daemon: 'ui', failure: 'bad option', args: ['ui', '--frobnicate'], expect: /^ovnts-ui: unrecognized option '--frobnicate'$/ },
  {
    daemon: 'ui',
    failure: 'bad --listen',
    args: ['ui', '--listen=nowhere'],
    expect: /^ovnts-ui: nowhere: bad --listen address \(expected ADDR:PORT\)$/,
  },
  {
    daemon: 'cni-agent',
    failure: 'bad option',
    args: ['cni-agent', '--frobnicate'],
    expect: /^ovnts-cni-agent: unrecognized option '--frobnicate'$/,
  },
  {
    daemon: 'cni-agent',
    failure: 'stray argument',
    args: ['cni-agent', 'extra'],
    expect: /^ovnts-cni-agent: non-option argument 'extra'; use --help for usage$/,
  },
  // Database files.
  {
    daemon: 'ovsdb-server',
    failure: 'corrupt database file',
    args: ['ovsdb-server', '--unixctl=D/s3.ctl', 'D/corrupt.db'],
    real: ['ovsdb-server', '--unixctl=D/s3.ctl', 'D/corrupt.db'],
  },
  {
    daemon: 'ovsdb-server',
    failure: 'missing database file',
    args: ['ovsdb-server', '--unixctl=D/s4.ctl', 'D/missing.db'],
    real: ['ovsdb-server', '--unixctl=D/s4.ctl', 'D/missing.db'],
  },
  {
    daemon: 'ovsdb-server',
    failure: 'database is a directory',
    args: ['ovsdb-server', '--unixctl=D/s5.ctl', 'D/a-directory'],
    real: ['ovsdb-server', '--unixctl=D/s5.ctl', 'D/a-directory'],
  },
  {
    daemon: 'up',
    failure: 'corrupt database file',
    args: ['up', '--rundir=D/up4', '--dbdir=D/corrupt-dbdir', '--no-controller', '--no-ipam'],
    expect: /^ovnts up: .*ovnnb_db\.db/,
  },
  {
    daemon: 'ovsdb-tool',
    failure: 'missing schema',
    args: ['ovsdb-tool', 'create', 'D/new.db', 'D/missing.ovsschema'],
    real: ['ovsdb-tool', 'create', 'D/new.db', 'D/missing.ovsschema'],
  },
];

const expand = (args: readonly string[]): string[] =>
  args.map((a) =>
    a
      .replace('REMOTE_BUSY', `--remote=ptcp:${busyPort}:127.0.0.1`)
      .replace('IPAM_BUSY', `--ipam=127.0.0.1:${busyPort}`)
      .replace('LISTEN_BUSY', `--listen=127.0.0.1:${busyPort}`)
      .replace('NB_LIVE', `--ovnnb-db=${live!.remote}`)
      .replace('SB_LIVE', `--ovnsb-db=${live!.remote}`)
      .replace(/\bD\//g, `${dir}/`),
  );
/** The control socket's default name has the pid in it. */
const normalize = (line: string): string => line.replace(/\.\d+\.ctl\b/g, '.PID.ctl');
const lastLine = (s: string): string => s.trimEnd().split('\n').pop() ?? '';

for (const c of CASES) {
  test(`${c.daemon}, ${c.failure}: one line, status 1${c.real ? `, as ${c.real[0]} says` : ''}`, { timeout: 30_000 }, async () => {
    const env = c.env === undefined ? {} : Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, expand([v])[0]!]));
    const before = new Set(readdirSync(dir));
    const ours = await run(OVNTS, expand(c.args), { env, timeoutMs: 15_000 });
    assert.equal(ours.timedOut, false, 'it exits by itself');
    assert.equal(ours.code, 1, ours.stderr);
    if (!c.logsFirst) assert.equal(ours.stderr.split('\n').filter((l) => l !== '').length, 1, `one line: ${ours.stderr}`);
    assert.doesNotMatch(ours.stderr, /\n\s+at /, 'no stack trace');
    if (c.expect) assert.match(lastLine(ours.stderr), c.expect);
    assert.deepEqual(
      readdirSync(dir).filter((f) => !before.has(f) && !/^up\d?$/.test(f)),
      [],
      'nothing left behind',
    );
    if (c.real) {
      const real = await run(c.real[0]!, expand(c.real.slice(1)), { env, timeoutMs: 15_000 });
      assert.equal(ours.code, real.code, `status as ${c.real[0]}: ${real.stderr}`);
      assert.equal(normalize(ours.stderr.trim()), normalize(lastLine(real.stderr)));
    }
    assert.equal(existsSync(join(dir, MISSING)), false);
  });
}
