/**
 * `ovnts ipam --auth=keystone`: a minimal Keystone (identity v3 password and
 * token auth, project-scoped tokens with a catalog, plus v2.0's token call for
 * the legacy neutronclient) served on the IPAM's own HTTP server, and the
 * check keystonemiddleware does in front of Neutron: every `/v2.0` request
 * needs a live token, or it gets keystonemiddleware's 401.
 * Users, projects and roles come from `--users=FILE` (see ./README.md).
 */
import type { FastifyInstance } from 'fastify';
import type { Authenticator, AuthFailure, RequestContext } from '../context.js';
import { publicUrls, UNAUTHORIZED_MESSAGE, wwwAuthenticate } from './bodies.js';
import { registerIdentityRoutes } from './routes.js';
import { TokenStore } from './tokens.js';
import { loadUsersFile, type Directory } from './users.js';

export { hashPassword, verifyPassword } from './password.js';
export { loadUsersFile, parseDirectory, UsersFileError, type Directory } from './users.js';
export { TokenStore } from './tokens.js';

export interface KeystoneOptions {
  /** The identity directory, or the path of the users file to read it from. */
  readonly users: Directory | string;
  /** Token lifetime in seconds (Keystone's `[token] expiration`). Default 3600. */
  readonly tokenExpirationSeconds?: number;
  /** The clock (ms since the epoch), for tests. Default `Date.now`. */
  readonly now?: () => number;
}

export interface KeystoneAuthenticator extends Authenticator {
  readonly kind: 'keystone';
  /** The tokens issued so far (live ones). */
  readonly tokens: TokenStore;
}

/** Paths keystonemiddleware guards in Neutron's api-paste pipeline: `/v2.0` and below (not `/`, the versions document). */
function isNeutronApiPath(url: string): boolean {
  const path = url.split('?', 1)[0]!;
  return (path === '/v2.0' || path.startsWith('/v2.0/') || path.startsWith('/v2.0.')) && path !== '/v2.0/tokens';
}

function headerValue(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The keystone authenticator. Reads the users file now (throws
 * {@link UsersFileError} on a bad one), so a daemon can refuse to start.
 */
export function createKeystoneAuthenticator(opts: KeystoneOptions): KeystoneAuthenticator {
  const dir = typeof opts.users === 'string' ? loadUsersFile(opts.users) : opts.users;
  const tokenOpts = opts.now === undefined ? {} : { now: opts.now };
  const tokens = new TokenStore({ lifetimeMs: (opts.tokenExpirationSeconds ?? 3600) * 1000, ...tokenOpts });

  const authenticate = (headers: Readonly<Record<string, string | string[] | undefined>>): RequestContext | AuthFailure => {
    const token = tokens.lookup(headerValue(headers, 'x-auth-token'));
    // An unscoped token is a valid identity but acts in no project: Neutron has nothing to give it.
    if (!token || !token.scope) return { status: 401, message: UNAUTHORIZED_MESSAGE };
    return {
      projectId: token.scope.project.id,
      userId: token.userId,
      roles: token.scope.roles,
      isAdmin: token.scope.roles.includes('admin'),
    };
  };

  const register = (app: FastifyInstance): void => {
    registerIdentityRoutes(app, dir, tokens);
    app.addHook('onRequest', async (request, reply) => {
      if (!isNeutronApiPath(request.url)) return;
      if ('projectId' in authenticate(request.headers)) return;
      // keystonemiddleware's rejection, byte for byte (auth_token/__init__.py process_request).
      await reply
        .code(401)
        .header('www-authenticate', wwwAuthenticate(publicUrls(request.protocol, request.host)))
        .type('application/json; charset=UTF-8')
        .send(`{"error": {"code": 401, "title": "Unauthorized", "message": ${JSON.stringify(UNAUTHORIZED_MESSAGE)}}}`);
    });
  };

  return { kind: 'keystone', tokens, register, authenticate };
}
