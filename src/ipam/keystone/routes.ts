/**
 * The identity API routes on the IPAM's fastify server: `GET /v3`,
 * `POST|GET|HEAD|DELETE /v3/auth/tokens`, and v2.0's `POST /v2.0/tokens`.
 * Each group is its own fastify plugin so its body parsing, errors and 404s
 * are Keystone's (`{"error":{...}}`) while the Neutron routes keep theirs.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateV2, authenticateV3, IdentityError } from './authenticate.js';
import {
  keystoneError,
  publicUrls,
  UNAUTHORIZED_MESSAGE,
  v2AccessBody,
  v3TokenBody,
  v3VersionBody,
  validationMessage,
  wwwAuthenticate,
  type PublicUrls,
} from './bodies.js';
import type { TokenStore } from './tokens.js';
import type { Directory } from './users.js';

/** Keystone's `[oslo_middleware] max_request_body_size` default. */
const MAX_BODY_BYTES = 114688;

export function urlsOf(request: FastifyRequest): PublicUrls {
  return publicUrls(request.protocol, request.host);
}

function sendError(request: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', wwwAuthenticate(urlsOf(request)));
  return reply.code(status).type('application/json').send(keystoneError(status, message));
}

/**
 * What every identity route shares: Keystone's body parsing (a non-JSON type or
 * malformed JSON is its 400, not fastify's 415), its error bodies, and its
 * response headers (clients print the request id with an error).
 */
function keystoneConventions(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('vary', 'X-Auth-Token').header('x-openstack-request-id', `req-${randomUUID()}`);
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));
  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    if (error instanceof IdentityError) return sendError(request, reply, error.status, error.message);
    if (error.statusCode === 413) return sendError(request, reply, 413, 'Request is too large.');
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(request, reply, 400, validationMessage(error.message));
    }
    request.log.error({ err: error }, 'identity request failed');
    return sendError(request, reply, 500, 'An unexpected error prevented the server from fulfilling your request.');
  });
}

function jsonBody(request: FastifyRequest): unknown {
  const type = String(request.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (type !== 'application/json')
    throw new IdentityError(400, validationMessage('Expecting to find application/json in Content-Type header.'));
  try {
    return JSON.parse(typeof request.body === 'string' ? request.body : '');
  } catch {
    throw new IdentityError(400, validationMessage('Expecting to find valid JSON in request body.'));
  }
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function registerIdentityRoutes(app: FastifyInstance, dir: Directory, store: TokenStore): void {
  void app.register(
    async (v3) => {
      keystoneConventions(v3);
      v3.setNotFoundHandler((request, reply) => sendError(request, reply, 404, 'The resource could not be found.'));

      // Under the prefix, '/' answers both `/v3` and `/v3/`.
      v3.get('/', async (request) => v3VersionBody(urlsOf(request)));

      v3.post('/auth/tokens', async (request, reply) => {
        const token = await authenticateV3(dir, store, jsonBody(request));
        const nocatalog = (request.query as Record<string, unknown>)['nocatalog'] !== undefined;
        return reply
          .code(201)
          .header('x-subject-token', token.id)
          .send(v3TokenBody(token, urlsOf(request), !nocatalog));
      });

      /** The caller's own token, or 401; then the subject token, which Keystone's default policy lets only its owner see. */
      const subjectOf = (request: FastifyRequest) => {
        const caller = store.lookup(headerOf(request, 'x-auth-token'));
        if (!caller) throw new IdentityError(401, UNAUTHORIZED_MESSAGE);
        const subjectId = headerOf(request, 'x-subject-token');
        const subject = store.lookup(subjectId);
        if (subjectId !== undefined && !subject) throw new IdentityError(404, `Could not find token: ${subjectId}.`);
        if (!subject || subject.userId !== caller.userId) {
          throw new IdentityError(403, 'You are not authorized to perform the requested action: identity:validate_token.');
        }
        return subject;
      };
      v3.get('/auth/tokens', async (request, reply) => {
        const subject = subjectOf(request);
        const nocatalog = (request.query as Record<string, unknown>)['nocatalog'] !== undefined;
        return reply.header('x-subject-token', subject.id).send(v3TokenBody(subject, urlsOf(request), !nocatalog));
      });
      v3.delete('/auth/tokens', async (request, reply) => {
        store.revoke(subjectOf(request).id);
        return reply.code(204).send();
      });
    },
    { prefix: '/v3' },
  );

  void app.register(async (v2) => {
    keystoneConventions(v2);
    v2.post('/v2.0/tokens', async (request, reply) => {
      const token = await authenticateV2(dir, store, jsonBody(request));
      return reply.send(v2AccessBody(token, urlsOf(request)));
    });
  });
}
