/**
 * Starts an OVSDB server — the real ovsdb-server or `ovnts ovsdb-server` — on
 * fresh database files in a private directory, for tests that run the same
 * work against both and compare.
 */
import { before, after } from 'node:test';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diesWithTest, killAtExit } from './proc.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const OVNTS = join(REPO, 'bin', 'ovnts');
export const NB_SCHEMA = join(REPO, 'schemas', 'ovn-nb.ovsschema');
export const SB_SCHEMA = join(REPO, 'schemas', 'ovn-sb.ovsschema');

export type ServerKind = 'real' | 'ovnts';

export interface RunningServer {
  readonly kind: ServerKind;
  readonly dir: string;
  /** Active remote for clients, e.g. `unix:/tmp/x/db.sock`. */
  readonly remote: string;
  readonly sockPath: string;
  /** The control socket for `ovs-appctl -t`. */
  readonly ctlPath: string;
  readonly dbFiles: readonly string[];
  readonly process: ChildProcess;
  /** Kills with SIGKILL (a crash) and waits for the exit. */
  kill9(): Promise<void>;
  /** Starts the same server again on the same files and socket. */
  restart(): Promise<RunningServer>;
  stop(): Promise<void>;
}

/** Polls until a unix socket accepts connections: the server's readiness barrier. */
export async function waitForSocket(path: string, child: ChildProcess, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before listening on ${path}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(path);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function createDb(kind: ServerKind, file: string, schema: string): void {
  if (kind === 'real') execFileSync('ovsdb-tool', ['create', file, schema]);
  else execFileSync(OVNTS, ['ovsdb-tool', 'create', file, schema]);
}

async function launch(kind: ServerKind, dir: string, dbFiles: string[], stderr: string[]): Promise<RunningServer> {
  const sockPath = join(dir, 'db.sock');
  const args =
    kind === 'real'
      ? [`--remote=punix:${sockPath}`, `--unixctl=${join(dir, 'ctl')}`, '--no-chdir', `--log-file=${join(dir, 'server.log')}`, ...dbFiles]
      : [
          'ovsdb-server',
          `--remote=punix:${sockPath}`,
          `--unixctl=${join(dir, 'ctl')}`,
          `--log-file=${join(dir, 'server.log')}`,
          ...dbFiles,
        ];
  // Its own group and a parent-death signal: a killed test run leaves no server behind.
  const child = spawn(...diesWithTest(kind === 'real' ? 'ovsdb-server' : OVNTS, args), {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  killAtExit(child);
  child.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
  try {
    await waitForSocket(sockPath, child);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}: ${stderr.join('')}`);
  }
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  const server: RunningServer = {
    kind,
    dir,
    remote: `unix:${sockPath}`,
    sockPath,
    ctlPath: join(dir, 'ctl'),
    dbFiles,
    process: child,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    restart: async () => launch(kind, dir, dbFiles, stderr),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  return server;
}

/** A server of the given kind on new database files made from `schemas`. */
export async function startServer(
  kind: ServerKind,
  schemas: readonly string[] = [NB_SCHEMA],
): Promise<RunningServer & { cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `ovnts-${kind}-`));
  const dbFiles = schemas.map((s) => {
    const f = join(dir, basename(s).replace('.ovsschema', '.db'));
    createDb(kind, f, s);
    return f;
  });
  const server = await launch(kind, dir, dbFiles, []);
  let current = server;
  return {
    ...server,
    get process() {
      return current.process;
    },
    kill9: () => current.kill9(),
    restart: async () => {
      current = await current.restart();
      return current;
    },
    stop: () => current.stop(),
    cleanup: async () => {
      await current.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts one server of each kind before a test file's tests and removes both
 * after them; the getters are valid inside tests.
 */
export function bothServers(schemas: readonly string[] = [NB_SCHEMA]): {
  readonly real: RunningServer;
  readonly ovnts: RunningServer;
} {
  let real: (RunningServer & { cleanup(): Promise<void> }) | undefined;
  let ovnts: (RunningServer & { cleanup(): Promise<void> }) | undefined;
  before(async () => {
    [real, ovnts] = await Promise.all([startServer('real', schemas), startServer('ovnts', schemas)]);
  });
  after(async () => {
    await Promise.all([real?.cleanup(), ovnts?.cleanup()]);
  });
  return {
    get real() {
      if (real === undefined) throw new Error('servers not started');
      return real;
    },
    get ovnts() {
      if (ovnts === undefined) throw new Error('servers not started');
      return ovnts;
    },
  };
}

/** A running test server in the shape the client suite takes; the same for both kinds. */
export interface TestOvsdbServer {
  /** Active remote for clients, e.g. `unix:/tmp/ovnts-real-x/db.sock`. */
  readonly remote: string;
  readonly dir: string;
  /** SIGKILL (a crash); the database files stay. */
  kill(): Promise<void>;
  /** Starts the server again on the same files and remote. */
  restart(): Promise<void>;
  /** Stops the server and removes everything it created. */
  stop(): Promise<void>;
}

export type StartOvsdbServer = (opts: { schemas: readonly string[] }) => Promise<TestOvsdbServer>;

/** The starter for one kind of server, for suites that run against both. */
export function starterFor(kind: ServerKind): StartOvsdbServer {
  return async ({ schemas }) => {
    const s = await startServer(kind, schemas);
    return {
      remote: s.remote,
      dir: s.dir,
      kill: () => s.kill9(),
      restart: async () => {
        await s.restart();
      },
      stop: () => s.cleanup(),
    };
  };
}
