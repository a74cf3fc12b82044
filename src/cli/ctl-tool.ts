/**
 * Runs a db-ctl tool (src/dbctl) as this process: its output written fully
 * before exit, and the exit the real tools have.
 */
import { runCtl, type ToolSpec } from '../dbctl/ctl.js';

export async function runCtlTool(tool: ToolSpec, args: string[]): Promise<number> {
  let out = '';
  let err = '';
  const code = await runCtl(tool, args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  await flush(out, err);
  // A timed-out --wait or wait-until leaves the client and timers running: the tool is done.
  // --timeout expired: end by SIGALRM as the real tools do (the shell reports 142).
  if (code === 142) process.kill(process.pid, 'SIGALRM');
  process.exit(code);
}

/** Writes both streams fully before the process exits. */
async function flush(out: string, err: string): Promise<void> {
  const w = (stream: NodeJS.WriteStream, s: string): Promise<void> =>
    new Promise((resolve) => {
      if (s === '') resolve();
      else stream.write(s, () => resolve());
    });
  await Promise.all([w(process.stdout, out), w(process.stderr, err)]);
}
