/**
 * The resident CNI agent: `ovnts-cni` forwards each invocation here over a
 * unix socket (bin/ovnts-cni: curl, a few ms) instead of starting Node
 * (100+ ms), and the agent runs it with connections it keeps — one OVSDB
 * client on this host's Open vSwitch (its monitor tells when the controller
 * sets `ovn-installed`), the IPAM's keep-alive HTTP connections.
 *
 * The request: `POST /cni`, the CNI_* variables (and OVS_RUNDIR, which the
 * configuration's default database depends on) as headers of the same name,
 * the network configuration as the body. The reply: the plugin's stdout as
 * the body, status 200 for exit 0 and 400 for exit 1 (curl --fail-with-body
 * then prints it and fails).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { runPlugin } from './plugin.js';
import { Resources } from './resources.js';

/** The variables a request carries (CNI SPEC.md "Parameters"; OVS_RUNDIR for the default `ovs_db`). */
export const FORWARDED_ENV = [
  'CNI_COMMAND',
  'CNI_CONTAINERID',
  'CNI_NETNS',
  'CNI_IFNAME',
  'CNI_ARGS',
  'CNI_PATH',
  'OVS_RUNDIR',
  'OVNTS_TIMING',
] as const;

export interface CniAgent {
  readonly server: Server;
  /** Stops accepting, ends open connections, closes the kept connections. */
  close(): Promise<void>;
}

function envOf(req: IncomingMessage): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of FORWARDED_ENV) {
    const v = req.headers[name.toLowerCase()];
    if (typeof v === 'string') env[name] = v;
  }
  return env;
}

export function createCniAgent(log: (msg: string) => void): CniAgent {
  const res = new Resources();
  const server = createServer((req, reply) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/cni') {
        reply.writeHead(404, { 'content-type': 'text/plain' }).end(`${req.method} ${req.url}: only POST /cni\n`);
        return;
      }
      const env = envOf(req);
      runPlugin(env, Buffer.concat(chunks).toString('utf8'), res).then(
        ({ stdout, exitCode }) => {
          if (exitCode !== 0) log(`${env['CNI_COMMAND'] ?? '?'} ${env['CNI_CONTAINERID'] ?? ''}: ${stdout}`);
          const body = stdout === '' ? '' : `${stdout}\n`;
          reply.writeHead(exitCode === 0 ? 200 : 400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          reply.end(body);
        },
        (e: unknown) => {
          // runPlugin answers every failure as CNI error JSON; this is a bug.
          log(`internal error: ${(e as Error).stack ?? String(e)}`);
          reply.writeHead(500).end();
        },
      );
    });
  });
  return {
    server,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      await res.close();
    },
  };
}
