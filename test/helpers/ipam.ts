/**
 * `ovnts up --no-controller` with the Neutron API on a free port, in a
 * private directory, and the real clients pointed at it: the `openstack`
 * CLI (`--os-auth-type none --os-endpoint URL`), the legacy `neutron` CLI
 * (OS_AUTH_TYPE=none OS_ENDPOINT=URL), the real ovn-nbctl/ovn-sbctl on its
 * databases, and raw HTTP.
 */
import { join } from 'node:path';
import { OVNTS } from './ovsdb-servers.js';
import { run, runOk, spawnDaemon, tmpDir, type Daemon, type RunResult } from './proc.js';

export interface IpamUnderTest {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly dir: string;
  readonly nbRemote: string;
  readonly sbRemote: string;
  /** `openstack --os-auth-type none --os-endpoint URL ARGS`. */
  osc(...args: string[]): Promise<RunResult>;
  /** `neutron ARGS` with OS_AUTH_TYPE=none OS_ENDPOINT=URL. */
  neutron(...args: string[]): Promise<RunResult>;
  /** The real ovn-nbctl on the NB. */
  nbctl(...args: string[]): Promise<string>;
  /** The real ovn-sbctl on the SB. */
  sbctl(...args: string[]): Promise<string>;
  /** An HTTP request to the API; the body parsed as JSON when it is. */
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: unknown; text: string }>;
  /** Stops `ovnts up` and starts it again on the same databases (the API port may change). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `ovnts up --no-controller --ipam=127.0.0.1:0` and waits for its readiness line. */
export async function startIpamUp(): Promise<IpamUnderTest> {
  const tmp = tmpDir('ovnts-ipam-');
  const dir = tmp.path;
  let daemon: Daemon;
  let url = '';
  const launch = async (): Promise<void> => {
    let port = '';
    daemon = await spawnDaemon(OVNTS, ['up', '--no-controller', '--ipam=127.0.0.1:0', `--rundir=${dir}`, `--dbdir=${dir}`], {
      name: 'ovnts-up-ipam',
      onLine: (line) => {
        const m = /Neutron API http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
        if (m !== null) port = m[1] as string;
      },
      readyWhen: async () => port !== '',
    });
    url = `http://127.0.0.1:${port}`;
  };
  await launch();
  const nbRemote = `unix:${join(dir, 'ovnnb_db.sock')}`;
  const sbRemote = `unix:${join(dir, 'ovnsb_db.sock')}`;
  return {
    get url() {
      return url;
    },
    dir,
    nbRemote,
    sbRemote,
    osc: (...args) => run('openstack', ['--os-auth-type', 'none', '--os-endpoint', url, ...args], { timeoutMs: 300_000 }),
    neutron: (...args) => run('neutron', args, { env: { OS_AUTH_TYPE: 'none', OS_ENDPOINT: url }, timeoutMs: 300_000 }),
    nbctl: (...args) => runOk('ovn-nbctl', [`--db=${nbRemote}`, '--timeout=20', ...args]),
    sbctl: (...args) => runOk('ovn-sbctl', [`--db=${sbRemote}`, '--timeout=20', ...args]),
    api: async (method, path, body, headers = {}) => {
      const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
      if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
      const r = await fetch(url + path, init);
      const text = await r.text();
      let parsed: unknown = undefined;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: r.status, body: parsed, text };
    },
    restart: async () => {
      await daemon.stop();
      await launch();
    },
    stop: async () => {
      await daemon.stop();
      tmp.cleanup();
    },
  };
}

/** The JSON printed by `openstack ... -f json`. */
export function json<T = Record<string, unknown>>(r: RunResult): T {
  if (r.code !== 0) throw new Error(`command failed (${r.code}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}
