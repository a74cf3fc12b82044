/**
 * The HTTP side of `ovnts ui`, on fastify (as the IPAM):
 *   GET  /                the page (static/index.html; static/* beside it)
 *   GET  /elk.bundled.js  the layout library's browser bundle, from node_modules
 *   GET  /topology        the topology now (JSON)
 *   GET  /events          server-sent events: one `topology` event at once, then one per coalesced change
 *   POST /trace           `{ microflow, datapath? }` → the trace drawn as a path (see trace-path.ts)
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { traceTree } from '../trace/index.js';
import { createLiveTopology, type LiveTopology, type LiveTopologyOptions } from './live-topology.js';
import { tracePath } from './trace-path.js';

/** The page's files, in the repository beside this module's source (no build step). */
const STATIC_DIR = fileURLToPath(new URL('../../../src/ui/static/', import.meta.url));

export interface UiServerOptions extends LiveTopologyOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 8080; 0 picks a free port. */
  readonly port?: number;
}

export interface UiServer {
  /** Connects to the NB and SB (waits for their first snapshots), then listens. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The port listened on (after start). */
  readonly port: number;
  readonly app: FastifyInstance;
  readonly topology: LiveTopology;
}

interface TraceBody {
  microflow: string;
  datapath?: string;
}

const TRACE_SCHEMA = {
  body: {
    type: 'object',
    required: ['microflow'],
    properties: {
      microflow: { type: 'string', minLength: 1, maxLength: 8192 },
      datapath: { type: 'string', minLength: 1, maxLength: 256 },
    },
    additionalProperties: false,
  },
} as const;

export function createUiServer(options: UiServerOptions): UiServer {
  // The clients' connection chatter only while serving: a failed start is reported in one line by the caller.
  let serving = false;
  const log = options.log ?? ((): void => undefined);
  const topology = createLiveTopology({ ...options, log: (m) => (serving ? log(m) : undefined) });
  // Closing ends every connection, a request still arriving included: a client sending slowly must not hold a stop.
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, forceCloseConnections: true });
  const streams = new Set<ServerResponse>();
  let port = options.port ?? 8080;
  // A comment line now and then keeps idle streams open through proxies that close silent connections.
  let keepalive: NodeJS.Timeout | undefined;

  app.register(fastifyStatic, { root: STATIC_DIR, prefix: '/', index: 'index.html' });
  const elkBundle = createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js');
  app.register(fastifyStatic, {
    root: dirname(elkBundle),
    prefix: '/lib/elkjs/',
    decorateReply: false,
    allowedPath: (p) => p === '/elk.bundled.js',
  });

  // Browsers ask for it; the page has none.
  app.get('/favicon.ico', (_req, reply) => reply.code(204).send());
  app.get('/topology', () => ({ seq: topology.seq, topology: topology.current() }));

  app.get('/events', (req, reply) => {
    // The stream outlives the handler: fastify hands the socket over and stop() ends it.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (_t: unknown, seq: number, json: string): void => void res.write(`event: topology\nid: ${seq}\ndata: ${json}\n\n`);
    send(undefined, topology.seq, JSON.stringify(topology.current()));
    const unsubscribe = topology.subscribe(send);
    streams.add(res);
    req.raw.on('close', () => {
      unsubscribe();
      streams.delete(res);
    });
  });

  app.post<{ Body: TraceBody }>('/trace', { schema: TRACE_SCHEMA }, (req) => {
    const { microflow, datapath } = req.body;
    const tree = traceTree(topology.traceSnapshot(), { microflow, ...(datapath === undefined ? {} : { datapath }) });
    return tracePath(microflow, tree);
  });

  return {
    app,
    topology,
    get port() {
      return port;
    },
    async start() {
      await topology.start();
      await app.listen({ host: options.host ?? '127.0.0.1', port });
      const addr = app.server.address();
      if (addr !== null && typeof addr === 'object') port = addr.port;
      keepalive = setInterval(() => {
        for (const s of streams) s.write(': keepalive\n\n');
      }, 25_000);
      serving = true;
    },
    async stop() {
      serving = false;
      clearInterval(keepalive);
      for (const s of streams) s.end();
      streams.clear();
      await app.close();
      await topology.stop();
    },
  };
}
