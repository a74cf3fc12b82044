/**
 * ovn-container served by the resident agent (`ovnts cni-agent`): its thin
 * client (dist/bin/ovn-container, src/cni/client/ovn-container.c) forwards
 * the command line and the environment the tool reads, the agent runs the
 * command with the connections it keeps (this host's OVS database with its
 * replica, the IPAM's keep-alive HTTP), and the client prints the output and
 * exits with the status — so a command costs no Node start, no module
 * loading and no OVSDB connection and monitor of its own.
 *
 * The request: `POST /ovn-container`, `X-Argc: N`, `X-Netns:` the client's
 * network namespace (readlink /proc/self/ns/net); the body N NUL-terminated
 * arguments, then NUL-terminated NAME=VALUE variables. The reply: 200 with
 * `X-Exit-Status` and `X-Stdout-Length`, the body stdout then stderr; 409
 * when the client is in another network namespace than the agent (the
 * veths, the IPAM's address and the runtime's view are per namespace), and
 * the client then runs the command itself.
 */
import { readlinkSync } from 'node:fs';
import type { AgentRoute, RouteReply } from '../cni/agent.js';
import { NeutronClient, type KeystoneCredentials } from '../host/neutron.js';
import { runOvnContainer } from './ovn-container.js';

export const OVN_CONTAINER_PATH = '/ovn-container';

/** The variables the tool reads (the client forwards only these prefixes too). */
const FORWARDED = /^(OS_|OVS_|OVNTS_|DOCKER_|CONTAINERS_|CONTAINER_HOST$)/;

export interface ToolRequest {
  readonly args: string[];
  readonly env: Record<string, string>;
}

/** Decodes the body; undefined when it does not hold `argc` arguments. */
export function decodeToolRequest(argc: number, body: Buffer): ToolRequest | undefined {
  const words = body.toString('utf8').split('\0');
  // NUL-terminated: the last split piece is the empty rest after the final NUL.
  if (words.pop() !== '' && body.length > 0) return undefined;
  if (!Number.isInteger(argc) || argc < 0 || words.length < argc) return undefined;
  const env: Record<string, string> = {};
  for (const kv of words.slice(argc)) {
    const eq = kv.indexOf('=');
    if (eq > 0 && FORWARDED.test(kv.slice(0, eq))) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { args: words.slice(0, argc), env };
}

/** Keystone tokens live an hour by default; a kept login is renewed well before (as the CNI agent's). */
const TOKEN_REUSE_MS = 15 * 60 * 1000;

/** Logins kept per credentials and endpoint; a failed one is not kept. */
function keptKeystone(): (c: KeystoneCredentials, endpoint: string | undefined) => Promise<NeutronClient> {
  const kept = new Map<string, { client: Promise<NeutronClient>; at: number }>();
  return (c, endpoint) => {
    const key = JSON.stringify([c, endpoint ?? null]);
    const k = kept.get(key);
    if (k !== undefined && Date.now() - k.at < TOKEN_REUSE_MS) return k.client;
    const entry = { client: NeutronClient.keystone(c, endpoint), at: Date.now() };
    kept.set(key, entry);
    entry.client.catch(() => kept.get(key) === entry && kept.delete(key));
    return entry.client;
  };
}

/** `log`: one line per command (its arguments and exit status; the environment is not logged). */
export function ovnContainerRoute(log: (msg: string) => void): AgentRoute {
  const ownNetns = readlinkSync('/proc/self/ns/net');
  const keystone = keptKeystone();
  return {
    path: OVN_CONTAINER_PATH,
    handle: async (headers, body, res): Promise<RouteReply> => {
      const since = performance.now();
      if (headers['x-netns'] !== ownNetns)
        return { status: 409, body: `the agent runs in ${ownNetns}, not in ${String(headers['x-netns'])}\n` };
      const req = decodeToolRequest(Number(headers['x-argc']), body);
      if (req === undefined) return { status: 400, body: 'malformed ovn-container request\n' };
      const out: string[] = [];
      const err: string[] = [];
      const status = await runOvnContainer(req.args, {
        out: (t) => void out.push(t),
        err: (t) => void err.push(t),
        env: req.env,
        since,
        ovs: (remote) => res.ovs(remote),
        keystone,
      });
      log(`ovn-container ${req.args.join(' ')}: exit ${status}`);
      const stdout = Buffer.from(out.join(''));
      return {
        status: 200,
        headers: { 'x-exit-status': String(status), 'x-stdout-length': String(stdout.length) },
        body: Buffer.concat([stdout, Buffer.from(err.join(''))]),
      };
    },
  };
}
