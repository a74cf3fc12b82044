/**
 * `ovnts cni-agent`: the resident side of the CNI plugin (src/cni/agent.ts)
 * on a unix socket that bin/ovnts-cni forwards to, with the daemon options of
 * the other ovnts daemons.
 */
import { chmodSync } from 'node:fs';
import { resolve } from 'node:path';
import { listenUnix, removeSocket } from './unix-socket.js';
import { createCniAgent } from '../cni/agent.js';
import { ovnContainerRoute } from './ovn-container-agent.js';
import { parseCommandLine, type CommandLine } from './command-line.js';
import { nonEmpty } from './options.js';
import {
  beginDaemon,
  daemonOptions,
  defaultDaemonOptions,
  detach,
  notifyReady,
  openDaemonLogger,
  ovnDaemonDefaults,
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

export const CNI_AGENT_COMMAND_LINE: CommandLine<Options> = {
  program: PROG,
  summary: 'the resident side of the ovnts CNI plugin (ovnts)',
  usage: ['ovnts cni-agent [OPTIONS]'],
  description: `The plugin's settings (IPAM, OVS database, bridge, mode) come with each request's network
configuration, as when ovnts-cni runs alone; the agent keeps the connections open between requests.
It serves ovn-container's thin client too (same socket, $OVNTS_CNI_SOCKET) when run in the same
network namespace as the client.`,
  options: [
    {
      name: 'socket',
      arg: 'required',
      metavar: 'PATH',
      help: 'serve here (ovnts-cni uses $OVNTS_CNI_SOCKET or this)',
      default: DEFAULT_CNI_SOCKET,
      set: (o, v) => void (o.socket = resolve(nonEmpty('socket', v))),
    },
    // The agent has no control socket and no metrics: --unixctl and --metrics would be accepted and do nothing.
    ...daemonOptions<Options>(ovnDaemonDefaults(PROG)).filter((d) => d.name !== 'unixctl' && d.name !== 'metrics'),
  ],
  defaults: () => ({ ...defaultDaemonOptions(), socket: DEFAULT_CNI_SOCKET }),
  finish: (o, args) => {
    if (args[0] !== undefined) throw new Error(`non-option argument '${args[0]}'; use --help for usage`);
    return o;
  },
};

export async function cniAgent(args: string[]): Promise<number> {
  const line = parseCommandLine(CNI_AGENT_COMMAND_LINE, args);
  if (typeof line === 'number') return line;
  const o = line.options;
  if (shouldDetach(o)) return detach('cni-agent', args);
  const logger = openDaemonLogger(PROG, { file: o.logFile, modules: ['cni-agent'], verbose: o.verbose });
  if (logger === undefined) return 1;
  const run = beginDaemon(PROG, o.pidfile);
  if (typeof run === 'number') return run;
  const log = logger.module('cni-agent');
  // One agent for the host's container tools: ovn-container's thin client is served here too.
  const agent = createCniAgent(log, [ovnContainerRoute(log)]);
  try {
    await listenUnix(agent.server, o.socket);
    run.removeOnExit(o.socket);
    // Runtimes run plugins as root; nobody else may attach containers.
    chmodSync(o.socket, 0o600);
  } catch (e) {
    await agent.close();
    return run.fail(`cannot serve on ${o.socket}: ${(e as Error).message}`);
  }
  // SIGTERM is handled from here on, before anyone is told the agent is up.
  const life = runUntilStopped({
    pidfile: o.pidfile,
    onSignal: undefined,
    run,
    stop: async () => {
      await agent.close();
      removeSocket(o.socket);
      await logger.close();
    },
  });
  log(`serving CNI requests on ${o.socket}`);
  await notifyReady(logger, o.pidfile);
  return life.done;
}
