/**
 * Starts the real `ovsdb-server` (Debian's openvswitch-switch) on fresh database
 * files in a temporary directory, as a child process (no --detach) so a test can
 * kill it, restart it on the same files, and clean up everything it made.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_DIR = fileURLToPath(new URL('../../../', import.meta.url));
export const NB_SCHEMA_FILE = join(REPO_DIR, 'schemas', 'ovn-nb.ovsschema');
export const SB_SCHEMA_FILE = join(REPO_DIR, 'schemas', 'ovn-sb.ovsschema');

/** A running test server; the same shape for the real ovsdb-server and ovnts. */
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

export interface StartOvsdbServerOptions {
  /** `.ovsschema` files; one database each. */
  schemas: readonly string[];
  /** Directory for files and sockets; default: a new temporary directory (removed by stop). */
  dir?: string;
}

export type StartOvsdbServer = (opts: StartOvsdbServerOptions) => Promise<TestOvsdbServer>;

/** The readiness barrier: retries connecting until the socket accepts. */
export async function waitForUnixSocket(path: string, child: ChildProcess, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited before listening on ${path}`);
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
    // Retry pacing for the connect poll, not a wait for an event we could observe.
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const startRealOvsdbServer: StartOvsdbServer = async (opts) => {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ovnts-real-ovsdb-'));
  if (!ownDir) mkdirSync(dir, { recursive: true });
  const dbFiles = opts.schemas.map((schema) => {
    const file = join(dir, basename(schema).replace(/\.ovsschema$/, '.db'));
    execFileSync('ovsdb-tool', ['create', file, schema]);
    return file;
  });
  const sock = join(dir, 'db.sock');
  let child: ChildProcess | undefined;
  const stderr: string[] = [];

  const launch = async (): Promise<void> => {
    const c = spawn(
      'ovsdb-server',
      [`--remote=punix:${sock}`, `--unixctl=${join(dir, 'ctl')}`, `--pidfile=${join(dir, 'pid')}`, '--no-chdir', `--log-file=${join(dir, 'server.log')}`, ...dbFiles],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    c.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
    child = c;
    try {
      await waitForUnixSocket(sock, c);
    } catch (e) {
      c.kill('SIGKILL');
      throw new Error(`${(e as Error).message}: ${stderr.join('')}`);
    }
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    remote: `unix:${sock}`,
    dir,
    kill,
    restart: launch,
    stop: async () => {
      await kill();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
};
