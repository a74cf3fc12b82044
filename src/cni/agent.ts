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
 *
 * Other tools of the host (ovn-container) are served by the same process on
 * the same socket, through `routes` given by the command that starts it,
 * with the same kept connections.
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

/** The answer to a request of another route. */
export interface RouteReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: Buffer | string;
}

/** Another tool served by the agent: `POST path`, the request's headers and body in, a reply out. */
export interface AgentRoute {
  readonly path: string;
  handle(headers: IncomingMessage['headers'], body: Buffer, res: Resources): Promise<RouteReply>;
}

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

export function createCniAgent(log: (msg: string) => void, routes: readonly AgentRoute[] = []): CniAgent {
  const res = new Resources();
  const server = createServer((req, reply) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const route = req.method === 'POST' ? routes.find((r) => r.path === req.url) : undefined;
      if (route !== undefined) {
        route.handle(req.headers, Buffer.concat(chunks), res).then(
          (r) => {
            const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
            reply.writeHead(r.status, { ...r.headers, 'content-length': body.length }).end(body);
          },
          (e: unknown) => {
            log(`${req.url}: internal error: ${(e as Error).stack ?? String(e)}`);
            reply.writeHead(500).end();
          },
        );
        return;
      }
      if (req.method !== 'POST' || req.url !== '/cni') {
        const known = ['/cni', ...routes.map((r) => r.path)].join(', ');
        reply.writeHead(404, { 'content-type': 'text/plain' }).end(`${req.method} ${req.url}: only POST to ${known}\n`);
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
