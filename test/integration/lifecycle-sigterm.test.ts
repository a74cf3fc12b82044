/**
 * SIGTERM in every state, per daemon: connected; reconnecting (its remote
 * gone); its peer frozen — a listener that accepts and never answers, or the
 * real server SIGSTOPped while a pass or a request waits on it;
 * mid-transaction. Each case measures the time to exit (printed), and checks
 * the exit (killed by SIGTERM, as the OVS/OVN daemons are: their fatal-signal
 * handler cleans up and re-raises), and that nothing is left: pid file, control
 * socket, listening sockets, child processes. The real ovsdb-server,
 * ovn-northd and ovn-controller run the same states as the reference.
 *
 * The table is one row per daemon and state; a new daemon (`ovnts ui`) is one
 * more row.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { OVNTS, NB_SCHEMA, SB_SCHEMA, startServer, type RunningServer } from '../helpers/ovsdb-servers.js';
import { socketAccepts, VSWITCH_SCHEMA } from '../helpers/ovs.js';
import { cleanupAll, onCleanup, processAlive, run, runOk, spawnDaemon, tmpDir, waitFor, type Daemon } from '../helpers/proc.js';

after(cleanupAll);

/** SIGTERM must end a daemon within this long, whatever its peers do. */
const EXIT_LIMIT_MS = 1000;
/**
 * ovnts northd and controller must end well before the daemons' own stop
 * deadline (0.4 s in src/cli/daemon.ts, past which the process leaves with its
 * stop unfinished): a pass waiting on a peer that does not answer is aborted,
 * not waited out (the real ones exit in 10-60 ms). The same for ovnts ipam:
 * a request waiting on a frozen NB gets its 503 at once.
 */
const PROMPT_LIMIT_MS = 300;
const mustBePrompt = (c: Case): boolean =>
  c.impl === 'ovnts' && (c.daemon === 'northd' || c.daemon === 'controller' || c.daemon === 'ipam');

interface Started {
  readonly daemon: Daemon;
  /** Files that must be gone after the exit (pid file, sockets). */
  readonly files: readonly string[];
  /** A request in flight at the SIGTERM: it must end (an answer or a closed connection) by the exit, not hang. */
  readonly inFlight?: Promise<string>;
}

interface Case {
  readonly daemon: string;
  readonly impl: 'ovnts' | 'real';
  readonly state: string;
  /** Starts the daemon and brings it into the state; resolves once it is there. */
  start(dir: string): Promise<Started>;
}

/** A unix listener that accepts connections and never answers: a frozen peer. */
async function frozenPeer(path: string): Promise<{ readonly path: string; accepted(): boolean; heard(): boolean }> {
  const sockets = new Set<Socket>();
  let heard = false;
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('data', () => (heard = true));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(path, r));
  onCleanup(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { path, accepted: () => sockets.size > 0, heard: () => heard };
}

/** An ovnts or real ovsdb-server on a fresh database, stopped by cleanupAll. */
async function dbServer(kind: 'ovnts' | 'real', ...schemas: string[]): Promise<RunningServer> {
  const s = await startServer(kind, schemas);
  onCleanup(async () => {
    if (s.process.exitCode === null && s.process.signalCode === null) s.process.kill('SIGCONT');
    await s.cleanup();
  });
  return s;
}

/** Freezes a server as a hung host would: SIGSTOP (undone by cleanup's SIGCONT). */
function freeze(s: RunningServer): void {
  s.process.kill('SIGSTOP');
}

/** The pids of `pid`'s descendants now (from /proc). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of parent) {
      if (pp !== p) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** A daemon is ready for the case once this file has content (the ovnts daemons write the pid file when they serve). */
const hasContent = (f: string) => async (): Promise<boolean> => existsSync(f) && readFileSync(f, 'utf8').trim() !== '';

const ovntsArgs = (dir: string, prog: string): string[] => [
  `--pidfile=${join(dir, `${prog}.pid`)}`,
  `--unixctl=${join(dir, `${prog}.ctl`)}`,
];
const files = (dir: string, prog: string): string[] => [join(dir, `${prog}.pid`), join(dir, `${prog}.pid.tmp`), join(dir, `${prog}.ctl`)];

/** `ovnts northd` / `ovn-northd` on NB and SB remotes. */
async function northd(impl: 'ovnts' | 'real', dir: string, nb: string, sb: string, readyWhen?: () => Promise<boolean>): Promise<Started> {
  const args = [`--ovnnb-db=${nb}`, `--ovnsb-db=${sb}`, ...ovntsArgs(dir, 'northd'), '--no-chdir'];
  const daemon =
    impl === 'ovnts'
      ? await spawnDaemon(OVNTS, ['northd', ...args], {
          name: 'ovnts northd',
          env: { OVN_RUNDIR: dir },
          ...(readyWhen ? { readyWhen } : {}),
        })
      : await spawnDaemon('ovn-northd', [...args, '-vconsole:off'], { env: { OVN_RUNDIR: dir }, ...(readyWhen ? { readyWhen } : {}) });
  return { daemon, files: files(dir, 'northd') };
}

/** An Open_vSwitch database (the real ovsdb-server, no ovs-vswitchd) made a chassis of `sb`. */
async function ovsDb(dir: string, sb: string): Promise<{ remote: string; server: Daemon }> {
  await runOk('ovsdb-tool', ['create', join(dir, 'conf.db'), VSWITCH_SCHEMA]);
  const sock = join(dir, 'db.sock');
  const server = await spawnDaemon(
    'ovsdb-server',
    [join(dir, 'conf.db'), `--remote=punix:${sock}`, `--unixctl=${join(dir, 'ovs.ctl')}`, '--no-chdir', '-vconsole:off'],
    { readyWhen: () => socketAccepts(sock) },
  );
  const remote = `unix:${sock}`;
  await runOk('ovs-vsctl', [
    `--db=${remote}`,
    '--no-wait',
    '--',
    'init',
    '--',
    'set',
    'Open_vSwitch',
    '.',
    'external_ids:system-id=hv-lifecycle',
    `external_ids:ovn-remote=${sb}`,
    'external_ids:ovn-encap-type=geneve',
    'external_ids:ovn-encap-ip=127.0.0.1',
  ]);
  return { remote, server };
}

async function controller(impl: 'ovnts' | 'real', dir: string, ovs: string, readyWhen?: () => Promise<boolean>): Promise<Started> {
  const env = { OVN_RUNDIR: dir, OVS_RUNDIR: dir };
  // ovn-controller 23.03 has no --unixctl: its control socket is $OVN_RUNDIR/ovn-controller.PID.ctl.
  const daemon =
    impl === 'ovnts'
      ? await spawnDaemon(OVNTS, ['controller', ovs, ...ovntsArgs(dir, 'controller')], {
          name: 'ovnts controller',
          env,
          ...(readyWhen ? { readyWhen } : {}),
        })
      : await spawnDaemon('ovn-controller', [ovs, `--pidfile=${join(dir, 'controller.pid')}`, '--no-chdir', '-vconsole:off'], {
          env,
          ...(readyWhen ? { readyWhen } : {}),
        });
  const ctl = impl === 'ovnts' ? join(dir, 'controller.ctl') : join(dir, `ovn-controller.${daemon.pid}.ctl`);
  return { daemon, files: [join(dir, 'controller.pid'), join(dir, 'controller.pid.tmp'), ctl] };
}

/** A controller of `impl` on an OVS database made a chassis of a fresh SB; resolves once its chassis is in the SB. */
async function registeredController(
  impl: 'ovnts' | 'real',
  dir: string,
): Promise<{ started: Started; sb: RunningServer; ovs: { remote: string } }> {
  const sb = await dbServer('ovnts', SB_SCHEMA);
  const ovs = await ovsDb(dir, sb.remote);
  const started = await controller(impl, dir, ovs.remote);
  const chassis = async (): Promise<boolean> =>
    (await runOk('ovn-sbctl', [`--db=${sb.remote}`, '--bare', '--columns=name', 'list', 'Chassis'])).trim() === 'hv-lifecycle';
  await waitFor(chassis, { what: 'the chassis registered' });
  return { started, sb, ovs };
}

async function ovsdbServer(impl: 'ovnts' | 'real', dir: string): Promise<Started & { remote: string }> {
  const db = join(dir, 'nb.db');
  await runOk(impl === 'ovnts' ? OVNTS : 'ovsdb-tool', [...(impl === 'ovnts' ? ['ovsdb-tool'] : []), 'create', db, NB_SCHEMA]);
  const sock = join(dir, 'nb.sock');
  const args = [
    db,
    `--remote=punix:${sock}`,
    `--pidfile=${join(dir, 'ovsdb-server.pid')}`,
    `--unixctl=${join(dir, 'ovsdb-server.ctl')}`,
    '--no-chdir',
  ];
  const daemon =
    impl === 'ovnts'
      ? await spawnDaemon(OVNTS, ['ovsdb-server', ...args], { name: 'ovnts ovsdb-server', readyWhen: () => socketAccepts(sock) })
      : await spawnDaemon('ovsdb-server', [...args, '-vconsole:off'], { readyWhen: () => socketAccepts(sock) });
  return { daemon, remote: `unix:${sock}`, files: [...files(dir, 'ovsdb-server'), sock] };
}

/** An OVSDB client connection that sends `requests` and keeps the socket open (it never reads). */
async function rawClient(path: string, requests: readonly unknown[]): Promise<void> {
  const s = connect(path);
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.once('connect', r));
  for (const req of requests) s.write(JSON.stringify(req));
  onCleanup(async () => void s.destroy());
}

/** A transact that waits 60 s for a row that never appears: the server holds it pending. */
const PENDING_WAIT = {
  id: 1,
  method: 'transact',
  params: [
    'OVN_Northbound',
    {
      op: 'wait',
      table: 'NB_Global',
      where: [],
      columns: ['options'],
      until: '==',
      rows: [{ options: ['map', [['never', 'x']]] }],
      timeout: 60000,
    },
  ],
};
const MONITOR_ALL = { id: 2, method: 'monitor', params: ['OVN_Northbound', null, { Logical_Switch: {}, Logical_Switch_Port: {} }] };

/** `ovnts ui` on the NB and SB of `db` (one server with both); its port from its log. */
async function uiDaemon(dir: string, db: RunningServer): Promise<Started & { port: number }> {
  const pid = join(dir, 'ui.pid');
  const log = join(dir, 'ui.log');
  const daemon = await spawnDaemon(
    OVNTS,
    [
      'ui',
      `--ovnnb-db=${db.remote}`,
      `--ovnsb-db=${db.remote}`,
      '--listen=127.0.0.1:0',
      `--pidfile=${pid}`,
      `--unixctl=${join(dir, 'ui.ctl')}`,
      `--log-file=${log}`,
    ],
    { name: 'ovnts ui', readyWhen: hasContent(pid) },
  );
  const port = /serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(readFileSync(log, 'utf8'))?.[1];
  assert.ok(port !== undefined, 'the log names the port');
  return { daemon, files: files(dir, 'ui'), port: Number(port) };
}

/** An HTTP request on `port` that sends its headers and `sent` of a longer body, then waits: a request in flight. */
async function halfRequest(port: number, head: string, sent: string): Promise<void> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.once('connect', r));
  s.write(`${head}\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${sent.length + 100}\r\n\r\n${sent}`);
  onCleanup(async () => void s.destroy());
}

/** The ui's event stream, held open (its first bytes read). */
async function eventStream(port: number): Promise<void> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  const first = new Promise<void>((r) => s.once('data', () => r()));
  s.write('GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
  onCleanup(async () => void s.destroy());
  await first;
}

/** `ovnts cni-agent` on a socket in `dir`. */
async function cniAgent(dir: string): Promise<Started & { socket: string }> {
  const pid = join(dir, 'cni-agent.pid');
  const socket = join(dir, 'cni.sock');
  const daemon = await spawnDaemon(OVNTS, ['cni-agent', `--socket=${socket}`, `--pidfile=${pid}`], {
    name: 'ovnts cni-agent',
    readyWhen: hasContent(pid),
  });
  return { daemon, socket, files: [pid, `${pid}.tmp`, socket] };
}

/** A CNI ADD through the agent's socket (as bin/ovnts-cni forwards it); resolves with the HTTP status. */
function cniAdd(socket: string, conf: Record<string, unknown>): Promise<number> {
  const body = JSON.stringify({ cniVersion: '1.0.0', name: 'lifecycle', type: 'ovnts-cni', network: 'net', ...conf });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        socketPath: socket,
        method: 'POST',
        path: '/cni',
        headers: {
          CNI_COMMAND: 'ADD',
          CNI_CONTAINERID: 'lifecycle1',
          CNI_NETNS: '/run/netns/ovnts-lifecycle-none',
          CNI_IFNAME: 'eth0',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    onCleanup(async () => void req.destroy());
    req.end(body);
  });
}

const IMPLS = ['ovnts', 'real'] as const;

const CASES: Case[] = [
  ...IMPLS.flatMap((impl): Case[] => [
    {
      daemon: 'ovsdb-server',
      impl,
      state: 'connected (a monitor client, an idle client)',
      start: async (dir) => {
        const s = await ovsdbServer(impl, dir);
        await rawClient(s.remote.slice(5), [MONITOR_ALL]);
        await rawClient(s.remote.slice(5), []);
        return s;
      },
    },
    {
      daemon: 'ovsdb-server',
      impl,
      state: 'mid-transaction (a wait pending, a client that never reads its updates)',
      start: async (dir) => {
        const s = await ovsdbServer(impl, dir);
        await rawClient(s.remote.slice(5), [PENDING_WAIT, MONITOR_ALL]);
        // Updates pile up for the client that does not read.
        await runOk('ovn-nbctl', [`--db=${s.remote}`, '--timeout=10', 'ls-add', 'sw0', '--', 'lsp-add', 'sw0', 'p0']);
        return s;
      },
    },
    {
      daemon: 'northd',
      impl,
      state: 'connected',
      start: async (dir) => {
        const [nb, sb] = await Promise.all([dbServer('ovnts', NB_SCHEMA), dbServer('ovnts', SB_SCHEMA)]);
        return northd(
          impl,
          dir,
          nb.remote,
          sb.remote,
          async () => (await run('ovn-appctl', ['-t', join(dir, 'northd.ctl'), 'status'])).stdout === 'Status: active\n',
        );
      },
    },
    {
      daemon: 'northd',
      impl,
      state: 'reconnecting (no databases)',
      start: async (dir) => {
        const s = await northd(impl, dir, `unix:${dir}/gone-nb.sock`, `unix:${dir}/gone-sb.sock`, () =>
          socketAccepts(join(dir, 'northd.ctl')),
        );
        await new Promise((r) => setTimeout(r, 300));
        return s;
      },
    },
    {
      daemon: 'northd',
      impl,
      state: 'databases accept and never answer',
      start: async (dir) => {
        const [nb, sb] = await Promise.all([frozenPeer(join(dir, 'nb.sock')), frozenPeer(join(dir, 'sb.sock'))]);
        const s = await northd(impl, dir, `unix:${nb.path}`, `unix:${sb.path}`);
        await waitFor(() => nb.heard() && sb.heard(), { what: 'northd talking to the frozen databases' });
        return s;
      },
    },
    {
      daemon: 'northd',
      impl,
      state: 'mid-pass (SB SIGSTOPped, then an NB change)',
      start: async (dir) => {
        const [nb, sb] = await Promise.all([dbServer('ovnts', NB_SCHEMA), dbServer('ovnts', SB_SCHEMA)]);
        const s = await northd(
          impl,
          dir,
          nb.remote,
          sb.remote,
          async () => (await run('ovn-appctl', ['-t', join(dir, 'northd.ctl'), 'status'])).stdout === 'Status: active\n',
        );
        freeze(sb);
        await runOk('ovn-nbctl', [`--db=${nb.remote}`, '--timeout=10', 'ls-add', 'sw0', '--', 'lsp-add', 'sw0', 'p0']);
        await new Promise((r) => setTimeout(r, 300));
        return s;
      },
    },
    {
      daemon: 'controller',
      impl,
      state: 'connected',
      start: async (dir) => {
        return (await registeredController(impl, dir)).started;
      },
    },
    {
      daemon: 'controller',
      impl,
      state: 'reconnecting (OVS database gone)',
      start: async (dir) => {
        const s = await controller(impl, dir, `unix:${dir}/gone.sock`);
        await new Promise((r) => setTimeout(r, 500));
        return s;
      },
    },
    {
      daemon: 'controller',
      impl,
      state: 'OVS database accepts and never answers',
      start: async (dir) => {
        const peer = await frozenPeer(join(dir, 'frozen-ovs.sock'));
        const s = await controller(impl, dir, `unix:${peer.path}`);
        await waitFor(() => peer.heard(), { what: 'the controller talking to the frozen OVS database' });
        return s;
      },
    },
    {
      daemon: 'controller',
      impl,
      state: 'mid-pass (SB SIGSTOPped, then an OVS change)',
      start: async (dir) => {
        const { started: s, sb, ovs } = await registeredController(impl, dir);
        freeze(sb);
        // The chassis' encap changes: the pass that follows must write the SB, which does not answer.
        await runOk('ovs-vsctl', [`--db=${ovs.remote}`, '--no-wait', 'set', 'Open_vSwitch', '.', 'external_ids:ovn-encap-ip=127.0.0.2']);
        await new Promise((r) => setTimeout(r, 300));
        return s;
      },
    },
  ]),
  {
    daemon: 'ipam',
    impl: 'ovnts',
    state: 'connected',
    start: async (dir) => {
      const nb = await dbServer('ovnts', NB_SCHEMA);
      const pid = join(dir, 'ipam.pid');
      const daemon = await spawnDaemon(
        OVNTS,
        ['ipam', `--ovnnb-db=${nb.remote}`, '--listen=127.0.0.1:0', `--pidfile=${pid}`, `--unixctl=${join(dir, 'ipam.ctl')}`],
        {
          readyWhen: hasContent(pid),
        },
      );
      return { daemon, files: files(dir, 'ipam') };
    },
  },
  {
    daemon: 'ipam',
    impl: 'ovnts',
    state: 'mid-request (NB SIGSTOPped, a POST waiting on it)',
    start: async (dir) => {
      const nb = await dbServer('ovnts', NB_SCHEMA);
      const pid = join(dir, 'ipam.pid');
      const log = join(dir, 'ipam.log');
      const daemon = await spawnDaemon(
        OVNTS,
        [
          'ipam',
          `--ovnnb-db=${nb.remote}`,
          '--listen=127.0.0.1:0',
          `--pidfile=${pid}`,
          `--unixctl=${join(dir, 'ipam.ctl')}`,
          `--log-file=${log}`,
        ],
        { readyWhen: hasContent(pid) },
      );
      const port = /serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(readFileSync(log, 'utf8'))?.[1];
      assert.ok(port !== undefined, 'the log names the port');
      freeze(nb);
      const inFlight = fetch(`http://127.0.0.1:${port}/v2.0/networks`, {
        method: 'POST',
        body: JSON.stringify({ network: { name: 'n1' } }),
      }).then(
        async (r) => `${r.status} ${await r.text()}`,
        (e: Error) => `closed: ${e.message}`,
      );
      await new Promise((r) => setTimeout(r, 300));
      return { daemon, files: files(dir, 'ipam'), inFlight };
    },
  },
  {
    daemon: 'docker-plugin',
    impl: 'ovnts',
    state: 'mid-request (its IPAM accepts and never answers)',
    start: async (dir) => {
      const ipam = await frozenIpam();
      const pid = join(dir, 'plugin.pid');
      const socket = join(dir, 'plugin.sock');
      const daemon = await spawnDaemon(
        OVNTS,
        [
          'docker-plugin',
          `--socket=${socket}`,
          `--ipam=http://127.0.0.1:${ipam.port}`,
          `--ovs-db=unix:${dir}/none.sock`,
          `--pidfile=${pid}`,
        ],
        {
          readyWhen: hasContent(pid),
        },
      );
      const req = connect(socket);
      req.on('error', () => undefined);
      const body = JSON.stringify({ Pool: '198.51.100.0/24' });
      req.write(`POST /IpamDriver.RequestPool HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      onCleanup(async () => void req.destroy());
      await waitFor(() => ipam.heard(), { what: 'the plugin asking its IPAM' });
      return { daemon, files: [pid, `${pid}.tmp`, socket] };
    },
  },
  {
    daemon: 'ui',
    impl: 'ovnts',
    state: 'connected (an event stream open)',
    start: async (dir) => {
      const ui = await uiDaemon(dir, await dbServer('ovnts', NB_SCHEMA, SB_SCHEMA));
      await eventStream(ui.port);
      return ui;
    },
  },
  {
    daemon: 'ui',
    impl: 'ovnts',
    state: 'its databases gone (reconnecting)',
    start: async (dir) => {
      const db = await dbServer('ovnts', NB_SCHEMA, SB_SCHEMA);
      const ui = await uiDaemon(dir, db);
      db.process.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 500));
      return ui;
    },
  },
  {
    daemon: 'ui',
    impl: 'ovnts',
    state: 'its databases frozen (SIGSTOPped, an event stream open)',
    start: async (dir) => {
      const db = await dbServer('ovnts', NB_SCHEMA, SB_SCHEMA);
      const ui = await uiDaemon(dir, db);
      await eventStream(ui.port);
      freeze(db);
      await new Promise((r) => setTimeout(r, 300));
      return ui;
    },
  },
  {
    daemon: 'ui',
    impl: 'ovnts',
    state: 'mid-request (a trace request half sent)',
    start: async (dir) => {
      const ui = await uiDaemon(dir, await dbServer('ovnts', NB_SCHEMA, SB_SCHEMA));
      await halfRequest(ui.port, 'POST /trace HTTP/1.1', '{"datapath": "sw0", ');
      await new Promise((r) => setTimeout(r, 200));
      return ui;
    },
  },
  {
    daemon: 'cni-agent',
    impl: 'ovnts',
    state: 'connected (an ADD answered, its OVS database connection kept)',
    start: async (dir) => {
      const ovs = await ovsDb(dir, 'unix:/nonexistent');
      const agent = await cniAgent(dir);
      // The IPAM refuses (port 9): the ADD fails after the agent opened this host's OVS database, which it keeps.
      assert.equal(await cniAdd(agent.socket, { ovs_db: ovs.remote, endpoint: 'http://127.0.0.1:9' }), 400);
      return agent;
    },
  },
  {
    daemon: 'cni-agent',
    impl: 'ovnts',
    state: 'its OVS database gone (reconnecting)',
    start: async (dir) => {
      const ovs = await ovsDb(dir, 'unix:/nonexistent');
      const agent = await cniAgent(dir);
      assert.equal(await cniAdd(agent.socket, { ovs_db: ovs.remote, endpoint: 'http://127.0.0.1:9' }), 400);
      ovs.server.process.kill('SIGKILL');
      await ovs.server.exited;
      await new Promise((r) => setTimeout(r, 300));
      return agent;
    },
  },
  {
    daemon: 'cni-agent',
    impl: 'ovnts',
    state: 'its OVS database accepts and never answers',
    start: async (dir) => {
      const peer = await frozenPeer(join(dir, 'frozen-ovs.sock'));
      const agent = await cniAgent(dir);
      void cniAdd(agent.socket, { ovs_db: `unix:${peer.path}`, endpoint: 'http://127.0.0.1:9' }).catch(() => undefined);
      await waitFor(() => peer.heard(), { what: 'the agent talking to the frozen OVS database' });
      return agent;
    },
  },
  {
    daemon: 'cni-agent',
    impl: 'ovnts',
    state: 'mid-request (its IPAM accepts and never answers)',
    start: async (dir) => {
      const [ovs, ipam] = await Promise.all([ovsDb(dir, 'unix:/nonexistent'), frozenIpam()]);
      const agent = await cniAgent(dir);
      void cniAdd(agent.socket, { ovs_db: ovs.remote, endpoint: `http://127.0.0.1:${ipam.port}` }).catch(() => undefined);
      await waitFor(() => ipam.heard(), { what: 'the agent asking its IPAM' });
      return agent;
    },
  },
  {
    daemon: 'up',
    impl: 'ovnts',
    state: 'connected (databases, northd, a monitor client)',
    start: async (dir) => {
      const pid = join(dir, 'up.pid');
      const daemon = await spawnDaemon(
        OVNTS,
        ['up', `--rundir=${dir}`, `--dbdir=${dir}`, '--no-controller', '--no-ipam', `--pidfile=${pid}`, `--unixctl=${join(dir, 'up.ctl')}`],
        {
          readyWhen: hasContent(pid),
        },
      );
      await rawClient(join(dir, 'ovnnb_db.sock'), [MONITOR_ALL]);
      await runOk('ovn-nbctl', [`--db=unix:${dir}/ovnnb_db.sock`, '--timeout=10', 'ls-add', 'sw0']);
      return { daemon, files: [pid, `${pid}.tmp`, join(dir, 'up.ctl'), join(dir, 'ovnnb_db.sock'), join(dir, 'ovnsb_db.sock')] };
    },
  },
  {
    daemon: 'up',
    impl: 'ovnts',
    state: 'starting (its OVS database accepts and never answers)',
    start: async (dir) => {
      const peer = await frozenPeer(join(dir, 'frozen-ovs.sock'));
      const pid = join(dir, 'up.pid');
      const daemon = await spawnDaemon(OVNTS, [
        'up',
        `--rundir=${dir}`,
        `--dbdir=${dir}`,
        `--ovs-db=unix:${peer.path}`,
        '--no-ipam',
        `--pidfile=${pid}`,
        `--unixctl=${join(dir, 'up.ctl')}`,
      ]);
      await waitFor(() => peer.heard(), { what: 'up talking to the frozen OVS database' });
      return { daemon, files: [pid, `${pid}.tmp`, join(dir, 'up.ctl'), join(dir, 'ovnnb_db.sock'), join(dir, 'ovnsb_db.sock')] };
    },
  },
];

/** An HTTP listener that reads requests and never answers. */
async function frozenIpam(): Promise<{ port: number; heard(): boolean }> {
  let heard = false;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('data', () => (heard = true));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { port: (server.address() as { port: number }).port, heard: () => heard };
}

const results: string[] = [];
after(() => {
  if (results.length > 0) process.stdout.write(`# SIGTERM → exit (ms)\n${results.map((l) => `#   ${l}`).join('\n')}\n`);
});

for (const c of CASES) {
  test(
    `${c.impl} ${c.daemon}, ${c.state}: SIGTERM ends it within ${EXIT_LIMIT_MS} ms and leaves nothing`,
    { timeout: 60_000 },
    async () => {
      const tmp = tmpDir(`ovnts-sigterm-${c.daemon}`);
      try {
        const { daemon, files: left, inFlight } = await c.start(tmp.path);
        const children = descendants(daemon.pid);
        const t0 = process.hrtime.bigint();
        daemon.process.kill('SIGTERM');
        const exited = await Promise.race([daemon.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000))]);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        results.push(`${c.impl.padEnd(5)} ${c.daemon.padEnd(13)} ${c.state}: ${exited ? ms.toFixed(0) : 'still running after 10 s'}`);
        assert.ok(exited, `still running 10 s after SIGTERM: ${daemon.output().slice(-2000)}`);
        assert.ok(ms < EXIT_LIMIT_MS, `took ${ms.toFixed(0)} ms`);
        if (mustBePrompt(c)) assert.ok(ms < PROMPT_LIMIT_MS, `took ${ms.toFixed(0)} ms: the stop waited for its deadline`);
        assert.equal(
          daemon.process.signalCode,
          'SIGTERM',
          `ended by SIGTERM, as the OVS daemons are (exit code ${daemon.process.exitCode}): ${daemon.output().slice(-1000)}`,
        );
        assert.deepEqual(
          left.filter((f) => existsSync(f)),
          [],
          'pid file and sockets removed',
        );
        assert.deepEqual(children.filter(processAlive), [], 'no child process left');
        assert.doesNotMatch(daemon.output(), /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
        if (inFlight !== undefined) {
          const end = await Promise.race([inFlight, new Promise<string>((r) => setTimeout(() => r('still waiting'), 1000))]);
          results.push(`${''.padEnd(19)} the request in flight: ${end.slice(0, 80)}`);
          assert.match(end, /^(503 |closed: )/, 'the request in flight got an answer or a closed connection');
        }
      } finally {
        await cleanupAll();
      }
    },
  );
}
