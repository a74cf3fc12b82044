/**
 * `ovnts cni-agent`: the resident side of the CNI plugin (src/cni/agent.ts)
 * on a unix socket that bin/ovnts-cni forwards to, with the daemon options of
 * the other ovnts daemons.
 */
import { chmodSync } from 'node:fs';
import { resolve } from 'node:path';
import { listenUnix, removeSocket } from './unix-socket.js';
import { createCniAgent } from '../cni/agent.js';
import { parseCommandLine } from './command-line.js';
import {
  createDaemonLogger,
  defaultDaemonOptions,
  detach,
  notifyReady,
  parseDaemonOption,
  runUntilStopped,
  shouldDetach,
  type DaemonOptions,
} from './daemon.js';

const PROG = 'ovnts-cni-agent';
/** Where bin/ovnts-cni looks unless OVNTS_CNI_SOCKET says otherwise. */
export const DEFAULT_CNI_SOCKET = '/run/ovnts/cni.sock';

interface Options extends DaemonOptions {
  socket: string;
}

const USAGE = `${PROG}: the resident side of the ovnts CNI plugin (ovnts)
usage: ovnts cni-agent [OPTIONS]
  --socket=PATH        serve here (default: ${DEFAULT_CNI_SOCKET}; ovnts-cni uses $OVNTS_CNI_SOCKET or this)
  --pidfile[=FILE]     write the process id to FILE once serving
  --log-file[=FILE]    append log messages to FILE
  --detach             run in the background once serving
The plugin's settings (IPAM, OVS database, bridge, mode) come with each request's network
configuration, as when ovnts-cni runs alone; the agent keeps the connections open between requests.
`;

function parseArgs(args: readonly string[]): Options | string {
  const o: Options = { ...defaultDaemonOptions(), socket: DEFAULT_CNI_SOCKET };
  const defaults = { program: PROG, rundir: process.env['OVN_RUNDIR'] ?? '.', logdir: process.env['OVN_LOGDIR'] ?? '.' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) throw new Error(`non-option argument '${a}'; use --help for usage`);
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new Error(`option '${name}' requires an argument`);
      return v;
    };
    if (parseDaemonOption(o, name, inline, value, defaults)) continue;
    switch (name) {
      case '--socket':
        o.socket = resolve(value());
        break;
      case '-h':
      case '--help':
        return USAGE;
      default:
        throw new Error(`unrecognized option '${a}'`);
    }
  }
  return o;
}

export async function cniAgent(args: string[]): Promise<number> {
  const o = parseCommandLine(PROG, args, parseArgs);
  if (typeof o === 'number') return o;
  if (shouldDetach(o)) return detach('cni-agent', args);
  const logger = createDaemonLogger({ file: o.logFile });
  const log = logger.module('cni-agent');
  const agent = createCniAgent(log);
  try {
    await listenUnix(agent.server, o.socket);
    // Runtimes run plugins as root; nobody else may attach containers.
    chmodSync(o.socket, 0o600);
  } catch (e) {
    process.stderr.write(`${PROG}: cannot serve on ${o.socket}: ${(e as Error).message}\n`);
    await agent.close();
    return 1;
  }
  // SIGTERM is handled from here on, before anyone is told the agent is up.
  const life = runUntilStopped({
    pidfile: o.pidfile,
    onSignal: undefined,
    stop: async () => {
      await agent.close();
      removeSocket(o.socket);
    },
  });
  log(`serving CNI requests on ${o.socket}`);
  await notifyReady(logger, o.pidfile);
  return life.done;
}
