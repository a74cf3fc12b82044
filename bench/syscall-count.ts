/**
 * System calls a running server makes during one workload, by kind, counted
 * from outside the process: `perf stat` on the kernel's syscall tracepoints
 * (cheap: the process runs and batches as it does untraced) or `strace -c -f`
 * (every call stops the process, so a traced server batches more per
 * event-loop turn; the kinds it sees are the same).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export type SyscallCounter = 'perf' | 'strace';

/** Calls per system call name over one workload, and how many transactions it ran. */
export interface SyscallCounts {
  readonly counter: SyscallCounter;
  readonly calls: ReadonlyMap<string, number>;
  readonly transactions: number;
}

export interface CounterRun {
  /** Detaches the counter and returns what it counted. */
  stop(): Promise<Map<string, number>>;
}

/** The calls an OVSDB server's loop, sockets and log make; perf counts these by name and the rest as "other". */
const PERF_SYSCALLS = [
  'read',
  'readv',
  'recvfrom',
  'recvmsg',
  'write',
  'writev',
  'pwrite64',
  'pwritev',
  'sendto',
  'sendmsg',
  'epoll_wait',
  'epoll_pwait',
  'epoll_ctl',
  'poll',
  'ppoll',
  'accept',
  'accept4',
  'futex',
  'fdatasync',
  'fsync',
  'getrusage',
  'clock_gettime',
  'mprotect',
  'madvise',
  'mmap',
  'munmap',
  'brk',
  'getpid',
  'ioctl',
];

const ATTACH_TIMEOUT_MS = 10_000;

/** Attaches a counter to every thread of `pid`; resolves once it counts. */
export async function attachCounter(counter: SyscallCounter, pid: number, outFile: string): Promise<CounterRun> {
  const args =
    counter === 'strace'
      ? ['-f', '-c', '-o', outFile, '-p', String(pid)]
      : [
          'stat',
          '-x',
          ',',
          '-o',
          outFile,
          '-e',
          ['raw_syscalls:sys_enter', ...PERF_SYSCALLS.map((n) => `syscalls:sys_enter_${n}`)].join(','),
          '-p',
          String(pid),
        ];
  const child: ChildProcess = spawn(counter, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        counter === 'strace' ? reject(new Error(`strace -p ${pid}: not attached after ${ATTACH_TIMEOUT_MS} ms: ${stderr}`)) : resolve(),
      // perf says nothing when it starts: give it a moment to open its events.
      counter === 'strace' ? ATTACH_TIMEOUT_MS : 500,
    );
    child.stderr?.on('data', () => {
      if (/attached/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${counter} -p ${pid} exited: ${stderr.trim()}`));
    });
  });
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      const text = readFileSync(outFile, 'utf8');
      return counter === 'strace' ? parseStraceSummary(text) : parsePerfStat(text);
    },
  };
}

/** The "calls" column of `strace -c` output, by system call name. */
export function parseStraceSummary(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (m === null || m[2] === 'total') continue;
    out.set(m[2] as string, Number(m[1]));
  }
  return out;
}

/** `perf stat -x,` lines (count,unit,event,...) by system call name; what the named ones miss is "other". */
export function parsePerfStat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let total = 0;
  for (const line of text.split('\n')) {
    const [count, , event] = line.split(',');
    if (event === undefined || count === undefined || !/^\d+$/.test(count)) continue;
    if (event === 'raw_syscalls:sys_enter') total = Number(count);
    else if (event.startsWith('syscalls:sys_enter_')) out.set(event.slice('syscalls:sys_enter_'.length), Number(count));
  }
  const named = [...out.values()].reduce((a, b) => a + b, 0);
  if (total > named) out.set('other', total - named);
  return out;
}

/** Prints calls per transaction by system call for both servers, busiest first. */
export function printSyscallTable(label: string, ovnts: SyscallCounts | undefined, real: SyscallCounts | undefined): void {
  const names = new Set([...(ovnts?.calls.keys() ?? []), ...(real?.calls.keys() ?? [])]);
  const per = (c: SyscallCounts | undefined, n: string): number => (c === undefined ? NaN : (c.calls.get(n) ?? 0) / c.transactions);
  const total = (c: SyscallCounts | undefined): number =>
    c === undefined ? NaN : [...c.calls.values()].reduce((a, b) => a + b, 0) / c.transactions;
  const big = (v: number): number => (Number.isNaN(v) ? 0 : v);
  const rows = [...names]
    .map((n) => [n, per(ovnts, n), per(real, n)] as const)
    .filter(([, a, b]) => big(a) >= 0.01 || big(b) >= 0.01)
    .sort((x, y) => Math.max(big(y[1]), big(y[2])) - Math.max(big(x[1]), big(x[2])));
  const f = (v: number): string => (Number.isNaN(v) ? '-' : v.toFixed(2));
  const line = (n: string, a: string, b: string): string => `| ${n.padEnd(14)} | ${a.padStart(8)} | ${b.padStart(8)} |`;
  const counter = ovnts?.counter ?? real?.counter ?? 'perf';
  const how = counter === 'perf' ? 'perf stat on the syscall tracepoints' : 'strace -c -f, which slows the server';
  process.stdout.write(
    `\nsystem calls per transaction, ${label} (${how}):\n` +
      `${line('syscall', 'ovnts', 'real')}\n|${'-'.repeat(16)}|${'-'.repeat(10)}|${'-'.repeat(10)}|\n` +
      `${[...rows.map(([n, a, b]) => line(n, f(a), f(b))), line('total', f(total(ovnts)), f(total(real)))].join('\n')}\n`,
  );
}
