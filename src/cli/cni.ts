/**
 * `ovnts-cni`: the executable CNI runtimes run (its name is the conflist's
 * `type`). It reads the network configuration from stdin and the CNI_*
 * variables, and prints the result or the error JSON. Imports stay lean:
 * every ADD pays this process's start-up.
 */
import { runPlugin } from '../cni/plugin.js';
import { parseCommandLine, type CommandLine } from './command-line.js';

export const CNI_COMMAND_LINE: CommandLine<object> = {
  program: 'ovnts-cni',
  summary: 'the ovnts CNI plugin (conflist "type": "ovnts-cni")',
  usage: ['ovnts-cni < NETWORK-CONFIG'],
  description: `Run by a CNI runtime, not by hand: CNI_COMMAND (ADD, DEL, CHECK, VERSION,
STATUS, GC), CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_PATH say what to
do and the network configuration comes on stdin; the result or the error is
JSON on stdout (CNI specification 1.1.0).`,
  options: [],
  defaults: () => ({}),
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function cni(args: string[]): Promise<number> {
  // Runtimes pass no arguments; a person may ask for --help or --version.
  if (args.length > 0) {
    const line = parseCommandLine(CNI_COMMAND_LINE, args);
    if (typeof line === 'number') return line;
  }
  const stdin = process.env['CNI_COMMAND'] === 'VERSION' && process.stdin.isTTY ? '' : await readStdin();
  const { stdout, exitCode } = await runPlugin(process.env, stdin);
  if (stdout !== '') process.stdout.write(`${stdout}\n`);
  return exitCode;
}
