/**
 * Network namespaces as the lab's hosts (ip-netns(8)): create and delete them,
 * get a DHCP lease inside one without touching the host's files, and ping.
 */
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk, startDaemon, waitFor } from './exec.js';

/** `ip netns add NAME` with its loopback up. */
export async function createNetns(name: string, signal?: AbortSignal): Promise<void> {
  await runOk('ip', ['netns', 'add', name], { signal });
  await runOk('ip', ['-n', name, 'link', 'set', 'lo', 'up'], { signal });
}

/** Deletes the namespace and its /etc/netns files. Idempotent. */
export async function deleteNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'del', name]);
  rmSync(join('/etc/netns', name), { recursive: true, force: true });
  try {
    rmdirSync('/etc/netns');
  } catch {
    // other namespaces' files are there, or it is gone
  }
}

/** The first IPv4 address of `iface` in `ns` as `a.b.c.d/len`, or undefined. */
export async function ifaceAddress(ns: string, iface: string, signal?: AbortSignal): Promise<string | undefined> {
  const r = await run('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', iface], { signal });
  return r.code === 0 ? /\binet (\d+\.\d+\.\d+\.\d+\/\d+)/.exec(r.stdout)?.[1] : undefined;
}

export interface PingOptions {
  /** Echo requests to send. Default 3. */
  readonly count?: number;
  /** Overall deadline in seconds (`ping -w`). Default 10. */
  readonly timeoutS?: number;
  /** Seconds between requests. Default 0.2. */
  readonly intervalS?: number;
  readonly signal?: AbortSignal | undefined;
}

export interface PingResult {
  readonly ok: boolean;
  readonly transmitted: number;
  readonly received: number;
  /** ping's output, for failure messages. */
  readonly output: string;
}

/** Echo requests from `ns` to `dest` within `timeoutS` (ping(8) `-c COUNT -w`); ok when a reply came and ping exited 0. */
export async function ping(ns: string, dest: string, opts: PingOptions = {}): Promise<PingResult> {
  const timeoutS = opts.timeoutS ?? 10;
  const args = ['-n', '-c', String(opts.count ?? 3), '-i', String(opts.intervalS ?? 0.2), '-w', String(timeoutS), dest];
  const r = await run('ip', ['netns', 'exec', ns, 'ping', ...args], { timeoutMs: (timeoutS + 5) * 1000, signal: opts.signal });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  const received = Number(m?.[2] ?? 0);
  return { ok: r.code === 0 && received > 0, transmitted: Number(m?.[1] ?? 0), received, output: r.stdout + r.stderr };
}

export interface DhcpClient {
  /** dhclient's pid (it stays in the foreground and renews). */
  readonly pid: number;
  /** The address on the interface, `a.b.c.d/len`, once the lease arrived. */
  readonly address: Promise<string>;
}

/**
 * Starts dhclient(8) on `iface` inside `ns` the safe way: the namespace gets
 * its own resolv.conf under /etc/netns first (ip netns exec bind-mounts it, so
 * dhclient-script never rewrites the host's), the pid, lease and config files
 * are in `dir`, and it stays in the foreground (`-d`) so it can be stopped by
 * pid (`onSpawn` gets it at once). `address` rejects when no lease arrives within `timeoutS`
 * (dhclient.conf(5) `timeout`).
 */
export async function startDhclient(
  ns: string,
  iface: string,
  opts: {
    readonly dir: string;
    readonly timeoutS: number;
    readonly onSpawn: (pid: number) => Promise<void>;
    readonly signal?: AbortSignal;
  },
): Promise<DhcpClient> {
  const { dir, timeoutS } = opts;
  mkdirSync(join('/etc/netns', ns), { recursive: true });
  writeFileSync(join('/etc/netns', ns, 'resolv.conf'), '# written by ovnts lab\n');
  const base = join(dir, `dhclient-${iface}`);
  writeFileSync(
    `${base}.conf`,
    [
      `timeout ${timeoutS};`,
      'retry 1;',
      'initial-interval 1;',
      'backoff-cutoff 2;',
      'request subnet-mask, broadcast-address, routers, interface-mtu;',
      '',
    ].join('\n'),
  );
  const args = [
    'netns',
    'exec',
    ns,
    'dhclient',
    '-4',
    '-d',
    '-1',
    '-v',
    '-cf',
    `${base}.conf`,
    '-pf',
    `${base}.pid`,
    '-lf',
    `${base}.leases`,
    iface,
  ];
  const pid = await startDaemon('ip', args, { logFile: `${base}.log`, onSpawn: opts.onSpawn, signal: opts.signal });
  const address = (async (): Promise<string> => {
    let found: string | undefined;
    await waitFor(async () => (found = await ifaceAddress(ns, iface, opts.signal)) !== undefined, {
      timeoutMs: (timeoutS + 5) * 1000,
      what: `a DHCP lease on ${iface}`,
      signal: opts.signal,
    });
    return found as string;
  })();
  // Observed by the caller; this keeps an unobserved failure from being reported twice.
  address.catch(() => undefined);
  return { pid, address };
}
