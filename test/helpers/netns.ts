/**
 * Network namespaces as test hosts: create and delete them, run commands in
 * them, get a DHCP lease with `dhclient` without touching the host's files,
 * read addresses and ping.
 *
 * Namespaces created here are deleted by `deleteNetns`, by `cleanupAll()` from
 * proc.ts, or at the latest when the test process exits.
 */
import { ifaceAddress, ping as labPing, type PingOptions, type PingResult } from '../../src/lab/netns.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { onCleanup, run, runOk, spawnDaemon, type Daemon, type RunOptions, type RunResult } from './proc.js';

const created = new Map<string, () => void>();

process.once('exit', () => {
  for (const name of created.keys()) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    rmSync(join('/etc/netns', name), { recursive: true, force: true });
  }
  removeEmptyEtcNetns();
});

/**
 * A short id, unique per call, for names of namespaces, bridges and
 * interfaces of one test run (interface names have at most 15 characters).
 */
export function runId(): string {
  return `t${randomBytes(3).toString('hex')}`;
}

/** `ip netns add NAME` and bring its loopback up. */
export async function createNetns(name: string): Promise<string> {
  await runOk('ip', ['netns', 'add', name]);
  const unregister = onCleanup(() => deleteNetns(name));
  created.set(name, unregister);
  await runOk('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

/** Deletes the namespace (and its /etc/netns directory). Idempotent. */
export async function deleteNetns(name: string): Promise<void> {
  const unregister = created.get(name);
  created.delete(name);
  unregister?.();
  await run('ip', ['netns', 'del', name]);
  rmSync(join('/etc/netns', name), { recursive: true, force: true });
  removeEmptyEtcNetns();
}

/** Removes /etc/netns when no namespace has files there any more. */
function removeEmptyEtcNetns(): void {
  try {
    rmdirSync('/etc/netns');
  } catch {
    // not empty (another namespace's files) or absent
  }
}

/** Runs a command inside the namespace (`ip netns exec`). */
export function nsRun(ns: string, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** Like `nsRun`, but rejects unless the exit status is 0; resolves to stdout. */
export function nsRunOk(ns: string, cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<string> {
  return runOk('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** The command line prefix that runs something inside `ns` (or nothing for the current namespace). */
export function nsPrefix(ns: string | undefined): string[] {
  return ns === undefined ? [] : ['ip', 'netns', 'exec', ns];
}

export { ifaceAddress, type PingOptions, type PingResult };

/** Pings `dest` from `ns` (src/lab's ping). */
export async function pingDetail(ns: string, dest: string, opts: PingOptions = {}): Promise<PingResult> {
  return labPing(ns, dest, opts);
}

/** Pings `dest` from `ns`; true on success. */
export async function ping(ns: string, dest: string, opts: PingOptions = {}): Promise<boolean> {
  return (await pingDetail(ns, dest, opts)).ok;
}

export interface DhcpOptions {
  /** Directory for the pid, lease and config files (the test's temp dir). */
  readonly dir: string;
  /** How long to try for a lease, in seconds. Default 30. */
  readonly timeoutS?: number;
  readonly onLine?: (line: string) => void;
}

export interface DhcpLease {
  /** The address on the interface, `a.b.c.d/len`. */
  readonly address: string;
  readonly client: Daemon;
  /** Kills dhclient (the address stays configured). */
  stop(): Promise<void>;
}

/**
 * Gets a lease on `iface` inside `ns` the safe way: the namespace gets its own
 * resolv.conf under /etc/netns (so dhclient-script never rewrites the host's),
 * dhclient uses pid/lease/config files in `dir`, tries once (`-1`) within the
 * timeout, and stays in the foreground (`-d`) as a tracked daemon so it is
 * always killed afterwards. Rejects if no lease arrives. See dhclient(8) for
 * `-d`/`-1`/`-pf`/`-lf`/`-cf`, dhclient.conf(5) for `timeout` and
 * `initial-interval`, ip-netns(8) for the /etc/netns bind mounts.
 */
export async function dhclient(ns: string, iface: string, opts: DhcpOptions): Promise<DhcpLease> {
  const timeoutS = opts.timeoutS ?? 30;
  mkdirSync(join('/etc/netns', ns), { recursive: true });
  writeFileSync(join('/etc/netns', ns, 'resolv.conf'), '# written by ovnts tests\n');
  const base = join(opts.dir, `dhclient-${ns}-${iface}`);
  writeFileSync(
    `${base}.conf`,
    [
      `timeout ${timeoutS};`,
      'retry 1;',
      'initial-interval 1;',
      'backoff-cutoff 2;',
      'request subnet-mask, broadcast-address, routers, domain-name-servers, interface-mtu;',
      '',
    ].join('\n'),
  );
  const client = await spawnDaemon(
    'ip',
    ['netns', 'exec', ns, 'dhclient', '-4', '-d', '-1', '-v', '-cf', `${base}.conf`, '-pf', `${base}.pid`, '-lf', `${base}.leases`, iface],
    {
      name: `dhclient[${ns}/${iface}]`,
      readyWhen: async () => (await ifaceAddress(ns, iface)) !== undefined,
      readyTimeoutMs: (timeoutS + 5) * 1000,
      ...(opts.onLine ? { onLine: opts.onLine } : {}),
    },
  );
  const address = (await ifaceAddress(ns, iface)) ?? '';
  return { address, client, stop: () => client.stop(1000) };
}
