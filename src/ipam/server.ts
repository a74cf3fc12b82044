/**
 * The `ovnts ipam` HTTP server: the Neutron v2.0 API (and whatever routes the
 * authenticator adds, e.g. Keystone's `/v3`) on fastify, over the NB.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { createNoAuth, isAuthFailure, type Authenticator, type RequestContext } from './context.js';
import { NeutronError, badRequest, noSuchResource } from './errors.js';
import { parseResourceBody } from './attributes.js';
import { NbView } from './model.js';
import { NbStore } from './store.js';
import { NotConnectedError } from '../ovsdb/client.js';
import { applyQuery, selectFields, type Query } from './query.js';
import { COLLECTIONS, type Collection } from './collections.js';
import { EXTENSIONS, extensionView } from './extensions.js';
import type { MetricsScope } from '../lib/metrics.js';
import { instrumentIpam } from './ipam-metrics.js';

export interface IpamServerOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port; 0 picks a free one (see {@link IpamServer.port}). Default 9696. */
  readonly port?: number;
  /** Comma-separated NB remotes, e.g. `unix:/var/run/ovn/ovnnb_db.sock`. Required. */
  readonly nbRemotes: string;
  /** Who requests act as. Default: {@link createNoAuth} (admin of a default project). */
  readonly authenticator?: Authenticator;
  /** Largest request body in bytes; larger ones get 413. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** Named logger. Default: silent. */
  readonly log?: (msg: string) => void;
  /** Where requests are counted (`--metrics`). Default: not counted. */
  readonly metrics?: MetricsScope;
}

export interface IpamServer {
  /** Connects to the NB (waits for its first snapshot), then listens. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The port listened on (after start). */
  readonly port: number;
  /** The fastify instance (for tests and for authenticators that add routes). */
  readonly app: FastifyInstance;
}

declare module 'fastify' {
  interface FastifyRequest {
    neutronContext: RequestContext | undefined;
  }
}

const INTERNAL = 'Request Failed: internal server error while processing your request.';

export function createIpamServer(options: IpamServerOptions): IpamServer {
  const log = options.log ?? (() => {});
  const auth = options.authenticator ?? createNoAuth();
  // The NB client's connection chatter only once serving: a failed start is reported in one line by the caller.
  let serving = false;
  const store = new NbStore({ remotes: options.nbRemotes, log: (m) => (serving ? log(m) : undefined) });
  const view = new NbView(store);
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // 2015-era neutronclient appends `.json` to every path.
    rewriteUrl: (req) => (req.url ?? '/').replace(/\.json(?=\?|$)/, ''),
    routerOptions: { ignoreTrailingSlash: true },
    logger: false,
    ajv: { customOptions: { allErrors: false } },
  });
  app.decorateRequest('neutronContext', undefined);
  if (options.metrics !== undefined) instrumentIpam(app, options.metrics);
  let port = options.port ?? 9696;

  // Neutron reads any body as JSON whatever its Content-Type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, text, done) => {
    const s = String(text);
    if (s.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(s));
    } catch {
      done(badRequest('Body contains invalid data'), undefined);
    }
  });
  app.setSchemaErrorFormatter(() => badRequest('Body contains invalid data'));

  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof NeutronError) return sendError(reply, err);
    const e = err as { code?: string; statusCode?: number; message?: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendError(reply, new NeutronError(413, 'HTTPRequestEntityTooLarge', 'Request is too large.'));
    if (e.code === 'FST_ERR_VALIDATION' || e.statusCode === 400) return sendError(reply, badRequest('Body contains invalid data'));
    // The NB went away and did not come back while the write was retried.
    if (err instanceof NotConnectedError)
      return sendError(reply, new NeutronError(503, 'ServiceUnavailable', 'The service is unavailable.'));
    log(`${req.method} ${req.url}: ${e.message ?? String(err)}`);
    return sendError(reply, new NeutronError(500, 'HTTPInternalServerError', INTERNAL));
  });
  app.setNotFoundHandler((req, reply) => {
    // A path that exists under another method: pecan's 405.
    const path = (req.url.split('?')[0] ?? '').replace(/\/+$/, '');
    const m = /^\/v2\.0\/([a-z_]+)(?:\/[^/]+(?:\/([a-z_]+))?)?$/.exec(path);
    const c = m === null ? undefined : COLLECTIONS.find((x) => x.collection === m[1]);
    if (c !== undefined && (m?.[2] === undefined || (c.actions ?? []).some((a) => a.name === m[2]))) {
      return sendError(
        reply,
        new NeutronError(
          405,
          'HTTPMethodNotAllowed',
          'The server could not comply with the request since it is either malformed or otherwise incorrect.',
        ),
      );
    }
    return sendError(reply, noSuchResource());
  });

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-openstack-request-id', `req-${randomUUID()}`);
    return payload;
  });

  function context(req: FastifyRequest): RequestContext {
    const c = req.neutronContext;
    if (c === undefined) throw new NeutronError(500, 'HTTPInternalServerError', INTERNAL);
    return c;
  }

  const register = async (): Promise<void> => {
    await auth.register(app);
    app.get('/', async (req) => versions(req));
    await app.register(
      async (v2) => {
        v2.addHook('onRequest', async (req, reply) => {
          const r = auth.authenticate(req.headers);
          if (isAuthFailure(r)) {
            await reply
              .code(401)
              .header('www-authenticate', 'Keystone uri="' + hostUrl(req) + '"')
              .send({ error: { code: 401, title: 'Unauthorized', message: r.message } });
            return reply;
          }
          req.neutronContext = r;
          return undefined;
        });
        v2.get('/', async (req) => resourcesDoc(req));
        v2.get('/extensions', async () => ({ extensions: EXTENSIONS.map(extensionView) }));
        v2.get<{ Params: { alias: string } }>('/extensions/:alias', async (req, reply) => {
          const x = EXTENSIONS.find((e) => e.alias === req.params.alias);
          if (x === undefined) {
            return reply
              .code(404)
              .type('application/json')
              .send({
                NeutronError: { type: 'HTTPNotFound', message: `Extension with alias ${req.params.alias} does not exist`, detail: '' },
              });
          }
          return { extension: extensionView(x) };
        });
        for (const c of COLLECTIONS) routes(v2, c);
      },
      { prefix: '/v2.0' },
    );
  };

  const bodySchema = { body: { type: 'object' } } as const;

  function routes(v2: FastifyInstance, c: Collection): void {
    const base = `/${c.collection}`;
    v2.get<{ Querystring: Query }>(base, async (req) => ({ [c.collection]: applyQuery(c.list(view, context(req)), req.query) }));
    v2.get<{ Params: { id: string }; Querystring: Query }>(`${base}/:id`, async (req) => ({
      [c.resource]: selectFields(c.show(view, context(req), req.params.id), req.query),
    }));
    v2.post(base, { schema: bodySchema }, async (req, reply) => {
      const ctx = context(req);
      const body = parseResourceBody(c.resource, c.attrs, req.body, true);
      const created = await c.create(view, ctx, body);
      return reply.code(201).send({ [c.resource]: created });
    });
    v2.put<{ Params: { id: string } }>(`${base}/:id`, { schema: bodySchema }, async (req) => {
      const ctx = context(req);
      c.show(view, ctx, req.params.id);
      const body = parseResourceBody(c.resource, c.attrs, req.body, false);
      return { [c.resource]: await c.update(view, ctx, req.params.id, body) };
    });
    v2.delete<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
      await c.remove(view, context(req), req.params.id);
      return reply.code(204).send();
    });
    for (const a of c.actions ?? []) {
      const path = `${base}/:id/${a.name}`;
      const handler = async (req: FastifyRequest<{ Params: { id: string } }>): Promise<unknown> =>
        a.run(view, context(req), req.params.id, req.body);
      if (a.method === 'GET') v2.get(path, handler);
      else v2.put(path, handler);
    }
  }

  return {
    app,
    get port() {
      return port;
    },
    async start() {
      await store.start();
      await register();
      await app.listen({ host: options.host ?? '127.0.0.1', port });
      const addr = app.server.address();
      if (addr !== null && typeof addr === 'object') port = addr.port;
      serving = true;
    },
    async stop() {
      serving = false;
      // Fastify's close waits for the requests in flight; one waiting on an NB
      // that does not answer finishes only once the store gives up on it (a 503).
      const closing = app.close();
      await store.stop();
      await closing;
    },
  };
}

function sendError(reply: FastifyReply, e: NeutronError): FastifyReply {
  return reply.code(e.status).type('application/json').send(e.body());
}

function hostUrl(req: FastifyRequest): string {
  return `http://${req.headers.host ?? '127.0.0.1'}`;
}

/** `GET /`: the versions document, its links built from the Host header as Neutron builds them from the request URL. */
function versions(req: FastifyRequest): unknown {
  return { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${hostUrl(req)}/v2.0/` }] }] };
}

function resourcesDoc(req: FastifyRequest): unknown {
  return {
    resources: COLLECTIONS.map((c) => ({
      name: c.resource,
      collection: c.collection,
      links: [{ rel: 'self', href: `${hostUrl(req)}/v2.0/${c.collection}` }],
    })),
  };
}
