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
import type { CommandLine } from './command-line.js';
import { nonEmpty } from './options.js';
import { daemonOptions, defaultDaemonOptions, ovnDaemonDefaults, runDaemon, type DaemonOptions } from './daemon.js';

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

export function cniAgent(args: string[]): Promise<number> {
  return runDaemon(CNI_AGENT_COMMAND_LINE, 'cni-agent', args, (o) => ({
    modules: ['cni-agent'],
    unixctl: undefined,
    onSignal: undefined,
    parts: ({ log, run }) => {
      // One agent for the host's container tools: ovn-container's thin client is served here too.
      const agent = createCniAgent(log, [ovnContainerRoute(log)]);
      let listening = false;
      const start = async (): Promise<void> => {
        try {
          await listenUnix(agent.server, o.socket);
          listening = true;
          run.removeOnExit(o.socket);
          // Runtimes run plugins as root; nobody else may attach containers.
          chmodSync(o.socket, 0o600);
        } catch (e) {
          throw new Error(`cannot serve on ${o.socket}: ${(e as Error).message}`);
        }
      };
      const stop = async (): Promise<void> => {
        await agent.close();
        if (listening) removeSocket(o.socket);
      };
      return [{ start, stop }];
    },
    started: () => `serving CNI requests on ${o.socket}`,
  }));
}
