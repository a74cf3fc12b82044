/**
 * Running the host's tools (ip, ethtool, nsenter, ovs-vsctl, docker, podman)
 * from the container tools: stdout as a string, the command's own stderr in
 * the error when it fails, optional stdin (for `ip -batch -`).
 */
import { execFile } from 'node:child_process';

export interface CommandOptions {
  /** Written to the command's stdin, which is then closed. */
  readonly input?: string;
  /** Extra environment on top of this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /** SIGKILL after this long. Default 60000 ms. */
  readonly timeoutMs?: number;
  /** Called with each chunk of stdout as it comes (a script telling a step is done). */
  readonly onStdout?: (text: string) => void;
}

/** A command that exited non-zero (or could not start): its words and its stderr. */
export class CommandFailed extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | string | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exit status ${code}`}`);
    this.name = 'CommandFailed';
  }
}

/** Runs `cmd args`; resolves to stdout, rejects with {@link CommandFailed}. */
export function command(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      [...args],
      {
        env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
        timeout: opts.timeoutMs ?? 60000,
        killSignal: 'SIGKILL',
        maxBuffer: 64 << 20,
      },
      (err, stdout, stderr) => {
        if (err === null) resolve(stdout);
        else
          reject(new CommandFailed([cmd, ...args], (err as { code?: number | string }).code ?? err.signal ?? null, stderr || err.message));
      },
    );
    if (opts.onStdout !== undefined) child.stdout?.on('data', (b: Buffer | string) => opts.onStdout?.(b.toString()));
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}

/** Like {@link command}, but resolves to undefined instead of rejecting. */
export async function tryCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<string | undefined> {
  try {
    return await command(cmd, args, opts);
  } catch (e) {
    if (e instanceof CommandFailed) return undefined;
    throw e;
  }
}
