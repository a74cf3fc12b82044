/**
 * How every ovnts command reads its command line: its declared options
 * (src/cli/options.ts) parsed, `--help` (the same table rendered) and
 * `--version` printed on stdout with status 0, and a refused command line as
 * one line `PROG: message` on stderr with status 1.
 */
import { OptionError, parseOptions, renderHelp, type CommandHelp, type OptionSpec } from './options.js';
import { versionText } from './version.js';

/** A command's declared command line: its help and its option table. */
export interface CommandLine<O> extends CommandHelp {
  readonly options: readonly OptionSpec<O>[];
  /** The options object with its defaults, before argv is applied. */
  readonly defaults: () => O;
  /** Checks the operands and the options together; returns the final options or throws. */
  readonly finish?: (o: O, args: readonly string[]) => O;
}

/** The command's `--help` text. */
export function helpText<O>(cmd: CommandLine<O>): string {
  return renderHelp(cmd, cmd.options);
}

/** The parsed options (and operands), or the exit status when there is nothing to run. */
export function parseCommandLine<O>(
  cmd: CommandLine<O>,
  args: readonly string[],
  // A resident agent runs commands for clients: their output is the client's, not the process's.
  io: { out(text: string): void; err(text: string): void } = {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
  },
): { options: O; args: string[] } | number {
  try {
    const p = parseOptions(args, cmd.options, cmd.defaults());
    if (p === 'help' || p === 'version') {
      io.out(p === 'help' ? helpText(cmd) : versionText(cmd.program));
      return 0;
    }
    return { options: cmd.finish === undefined ? p.options : cmd.finish(p.options, p.args), args: p.args };
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    io.err(`${cmd.program}: ${e.message}\n`);
    return 1;
  }
}

export { OptionError };
