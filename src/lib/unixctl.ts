/**
 * The daemon's control socket, spoken by `ovs-appctl` / `ovn-appctl`
 * (ovs-appctl(8)): JSON-RPC over a unix socket where each request's method is
 * the command name and its params the command's string arguments; the reply's
 * result is the text `ovs-appctl` prints, an error reply's error the text it
 * prints on stderr before exiting with status 2.
 */
import { unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { JsonRpcSession, RpcError } from './jsonrpc.js';

/** A command: gets the arguments, returns the reply text or throws an Error whose message is the error text. */
export type UnixctlHandler = (args: string[]) => string | Promise<string>;

interface Command {
  readonly usage: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly handler: UnixctlHandler;
}

export interface UnixctlServerOptions {
  /** The socket path. */
  readonly path: string;
  /** Named logger. Default: silent. */
  readonly log?: (msg: string) => void;
}

export class UnixctlServer {
  private readonly commands = new Map<string, Command>();
  private server: Server | undefined;
  private readonly sessions = new Set<JsonRpcSession>();
  private readonly log: (m: string) => void;

  constructor(private readonly opts: UnixctlServerOptions) {
    this.log = opts.log ?? ((): void => undefined);
    this.register(
      'list-commands',
      '',
      0,
      0,
      () =>
        `The available commands are:\n${[...this.commands.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([n, c]) => `  ${n.padEnd(23)} ${c.usage}\n`)
          .join('')}`,
    );
  }

  get path(): string {
    return this.opts.path;
  }

  /** Adds a command (ovs-appctl(8) checks the argument count the same way). */
  register(name: string, usage: string, minArgs: number, maxArgs: number, handler: UnixctlHandler): void {
    this.commands.set(name, { usage, minArgs, maxArgs, handler });
  }

  async start(): Promise<void> {
    try {
      unlinkSync(this.opts.path);
    } catch {
      // no stale socket
    }
    const server = createServer((sock) => {
      const s = new JsonRpcSession(sock, { name: 'unixctl', log: this.log, maxMessageBytes: 1024 * 1024 });
      this.sessions.add(s);
      s.once('close', () => this.sessions.delete(s));
      s.setRequestHandler((method, params) => this.dispatch(method, params));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  private async dispatch(method: string, params: unknown): Promise<string> {
    const cmd = this.commands.get(method);
    if (cmd === undefined) throw new RpcError(`"${method}" is not a valid command (use "list-commands" to see a list of valid commands)\n`);
    const args = Array.isArray(params) ? params.map(String) : [];
    if (args.length < cmd.minArgs) throw new RpcError(`"${method}" command requires at least ${cmd.minArgs} arguments\n`);
    if (args.length > cmd.maxArgs) throw new RpcError(`"${method}" command takes at most ${cmd.maxArgs} arguments\n`);
    try {
      return await cmd.handler(args);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      // ovs-appctl prints the text as it is: lines end in a newline.
      throw new RpcError(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  async stop(): Promise<void> {
    for (const s of this.sessions) s.close();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
    try {
      unlinkSync(this.opts.path);
    } catch {
      // already gone
    }
  }
}
