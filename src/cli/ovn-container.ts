/**
 * `ovn-container COMMAND [ARG...]` (seed 004; CONTAINERS.md §2): networks and
 * endpoints through the IPAM's Neutron API, and network containers plugged
 * into them. Every failure is one message on stderr and exit status 1.
 */
import { NeutronError } from '../host/neutron.js';
import { OvsDb, defaultOvsDb } from '../host/ovs-db.js';
import { containerRuntime, detectRuntime, RUNTIMES, type ContainerRuntime, type RuntimeName } from '../host/container-runtime.js';
import { ToolError, type Session } from '../container/settings.js';
import { init } from '../container/init.js';
import { netCreate, netDelete, netList } from '../container/networks.js';
import { endpointCreate, endpointDelete, endpointList } from '../container/endpoints.js';
import { containerCreate } from '../container/plug.js';
import { helpText, parseCommandLine, type CommandLine } from './command-line.js';
import { ovsDbOption } from './db-options.js';
import { nonEmpty } from './options.js';

const SUMMARY = "OVN networks for containers, through the IPAM's Neutron API";

interface Parsed {
  /** Empty: the default, unix:$OVS_RUNDIR/db.sock of the caller's environment. */
  db: string;
  runtime: RuntimeName | undefined;
  cmd: string | undefined;
  positional: string[];
  bridge: string | undefined;
  overlay: boolean;
  underlay: boolean;
  networks: string[];
}

export const OVN_CONTAINER_COMMAND_LINE: CommandLine<Parsed> = {
  program: 'ovn-container',
  summary: SUMMARY,
  usage: ['ovn-container [--db=REMOTE] [--runtime=docker|podman] COMMAND [ARG...]'],
  description: `commands:
  init --bridge BR --overlay-mode|--underlay-mode
                               this host's mode and bridge (br-int; breth0 in a VM)
  net-create NAME CIDR         a network with an IPv4 subnet; prints its UUID last
  net-list                     the networks
  net-delete NET               delete a network (name or UUID)
  endpoint-create NET [NAME]   a port on NET; prints its UUID last
  endpoint-list                the endpoints
  endpoint-delete EP           delete an endpoint (and its network container with the last one)
  container-create --network=EP [--network=EP...]
                               a network container with these endpoints; prints its id
                               (then: docker run --net=container:ID ..., podman run --network=container:ID ...)`,
  epilog: `underlay mode reads OS_VIF_ID (the VM's Neutron port), OS_USERNAME, OS_PASSWORD,
OS_TENANT_ID and OS_AUTH_URL (Keystone); OS_AUTH_STRATEGY=noauth skips Keystone.
`,
  options: [
    ovsDbOption<Parsed>(),
    {
      name: 'runtime',
      arg: 'required',
      metavar: 'docker|podman',
      help: 'the container runtime',
      default: 'docker when dockerd answers, podman otherwise',
      set: (p, v) => {
        const r = nonEmpty('runtime', v);
        if (!(RUNTIMES as readonly string[]).includes(r)) throw new Error(`--runtime must be docker or podman, not "${r}"`);
        p.runtime = r as RuntimeName;
      },
    },
    {
      name: 'bridge',
      arg: 'required',
      metavar: 'BR',
      help: "init: this host's bridge",
      set: (p, v) => void (p.bridge = nonEmpty('bridge', v)),
    },
    { name: 'overlay-mode', help: 'init: OVN on this host (br-int)', set: (p) => void (p.overlay = true) },
    { name: 'underlay-mode', help: "init: containers in a VM, on the VM's Neutron port", set: (p) => void (p.underlay = true) },
    {
      name: 'network',
      arg: 'required',
      metavar: 'EP',
      help: 'container-create: an endpoint to plug (repeatable)',
      set: (p, v) => void p.networks.push(nonEmpty('network', v)),
    },
  ],
  defaults: () => ({
    db: '',
    runtime: undefined,
    cmd: undefined,
    positional: [],
    bridge: undefined,
    overlay: false,
    underlay: false,
    networks: [],
  }),
  finish: (p, args) => ({ ...p, cmd: args[0], positional: args.slice(1) }),
};

function arity(p: Parsed, min: number, max: number, usage: string): string[] {
  if (p.positional.length < min || p.positional.length > max) throw new ToolError(`usage: ovn-container ${usage}`);
  return p.positional;
}

async function dispatch(s: Session, p: Parsed): Promise<void> {
  switch (p.cmd) {
    case 'init':
      arity(p, 0, 0, 'init --bridge BR --overlay-mode|--underlay-mode');
      return init(s, p.bridge, p.overlay, p.underlay);
    case 'net-create': {
      const [name, cidr] = arity(p, 2, 2, 'net-create NAME CIDR');
      return netCreate(s, name!, cidr!);
    }
    case 'net-list':
      arity(p, 0, 0, 'net-list');
      return netList(s);
    case 'net-delete':
      return netDelete(s, arity(p, 1, 1, 'net-delete NET')[0]!);
    case 'endpoint-create': {
      const [net, name] = arity(p, 1, 2, 'endpoint-create NET [ENDPOINTNAME]');
      return endpointCreate(s, net!, name);
    }
    case 'endpoint-list':
      arity(p, 0, 0, 'endpoint-list');
      return endpointList(s);
    case 'endpoint-delete':
      return endpointDelete(s, arity(p, 1, 1, 'endpoint-delete EP')[0]!);
    case 'container-create':
      arity(p, 0, 0, 'container-create --network=EP [--network=EP...]');
      return containerCreate(s, p.networks);
    default:
      throw new ToolError(`ovn-container: unknown command '${p.cmd}'; use --help for help`);
  }
}

/** Where a run of the tool writes, what environment it sees, and the connections it may keep. */
export interface ToolContext {
  /** Text for stdout / stderr (whole lines, newlines included). */
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** When the request came (performance.now()), for OVNTS_TIMING. */
  readonly since?: number;
  /** A resident process's kept OVS connection for `remote`; without it the run opens its own and closes it. */
  readonly ovs?: (remote: string) => Promise<OvsDb>;
  /** A resident process's kept Keystone login (underlay mode). */
  readonly keystone?: Session['keystone'];
}

/** `ovn-container ARGS` in this process, writing to its stdout and stderr. */
export function ovnContainer(args: string[]): Promise<number> {
  return runOvnContainer(args, {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    env: process.env,
  });
}

/** `ovn-container ARGS` for `ctx` (this process, or a client of the resident agent); resolves to the exit status. */
export async function runOvnContainer(args: string[], ctx: ToolContext): Promise<number> {
  const err = (l: string): void => ctx.err(`${l}\n`);
  let own: OvsDb | undefined;
  const line = parseCommandLine(OVN_CONTAINER_COMMAND_LINE, args, ctx);
  if (typeof line === 'number') return line;
  const p = line.options;
  if (p.cmd === undefined) {
    ctx.out(helpText(OVN_CONTAINER_COMMAND_LINE));
    return 1;
  }
  const remote = p.db === '' ? defaultOvsDb(ctx.env) : p.db;
  try {
    const db = ctx.ovs === undefined ? (own = await OvsDb.open(remote)) : await ctx.ovs(remote);
    let rt: Promise<ContainerRuntime> | undefined;
    const session: Session = {
      db,
      out: (l) => ctx.out(`${l}\n`),
      err,
      env: ctx.env,
      ...(ctx.since === undefined ? {} : { since: ctx.since }),
      ...(ctx.keystone === undefined ? {} : { keystone: ctx.keystone }),
      runtime: () => (rt ??= (async () => containerRuntime(p.runtime ?? (await detectRuntime(ctx.env)), ctx.env))()),
    };
    await dispatch(session, p);
    return 0;
  } catch (e) {
    if (e instanceof ToolError) err(e.message);
    else if (e instanceof NeutronError || (e instanceof TypeError && /fetch failed/.test(e.message))) {
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      err(`Failed in neutron api call. \n (${e.message}${cause === undefined ? '' : `: ${cause}`})`);
    } else err(`Failed operation.\n(${(e as Error).message})`);
    return 1;
  } finally {
    await own?.close();
  }
}
