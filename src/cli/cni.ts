/**
 * `ovnts-cni`: the executable CNI runtimes run (its name is the conflist's
 * `type`). It reads the network configuration from stdin and the CNI_*
 * variables, and prints the result or the error JSON. Imports stay lean:
 * every ADD pays this process's start-up.
 */
import { runPlugin } from '../cni/plugin.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function cni(_args: string[]): Promise<number> {
  const stdin = process.env['CNI_COMMAND'] === 'VERSION' && process.stdin.isTTY ? '' : await readStdin();
  const { stdout, exitCode } = await runPlugin(process.env, stdin);
  if (stdout !== '') process.stdout.write(`${stdout}\n`);
  return exitCode;
}
