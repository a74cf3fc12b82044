/**
 * What the create → first-ping benchmarks share: percentiles, and a pinger
 * (every 10 ms, from a namespace entered with nsenter) that resolves at the
 * first echo reply.
 */
import { spawn } from 'node:child_process';

/** The p-th percentile (nearest rank). */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/**
 * Pings `dest` every 10 ms from the namespace nsenter(1) enters with `enter`
 * (`['-t', PID, '-n']` or `['--net=/run/netns/NAME']`); `reply` resolves with
 * the time of the first echo reply.
 */
export function firstReply(enter: readonly string[], dest: string): { reply: Promise<number>; stop: () => void } {
  const p = spawn('nsenter', [...enter, 'ping', '-n', '-i', '0.01', '-W', '1', '-w', '30', dest], { stdio: ['ignore', 'pipe', 'ignore'] });
  const reply = new Promise<number>((resolve, reject) => {
    let buf = '';
    p.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      if (/bytes from/.test(buf)) {
        resolve(performance.now());
        p.kill('SIGKILL');
      }
    });
    p.once('close', () => reject(new Error(`no reply from ${dest}`)));
  });
  reply.catch(() => undefined);
  return { reply, stop: () => void p.kill('SIGKILL') };
}
