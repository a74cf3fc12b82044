/**
 * Who a Neutron API request acts as, and how the server finds out.
 *
 * The IPAM server (src/ipam/server.ts) asks its {@link Authenticator} for a
 * {@link RequestContext} before any resource handler runs. `noauth` answers every
 * request as the admin of a default project; `keystone` (src/ipam/keystone/)
 * validates the `X-Auth-Token` header against the tokens it issued itself and
 * also serves the Keystone v3 identity API on the same HTTP server.
 */
import type { FastifyInstance } from 'fastify';

export interface RequestContext {
  /** The project (tenant) the request acts in; resources are owned by it. */
  readonly projectId: string;
  readonly userId: string;
  /** Role names as Keystone returns them, e.g. `['admin', 'member']`. */
  readonly roles: readonly string[];
  /** Neutron's `context.is_admin`: the `admin` role. Admins see every project's resources. */
  readonly isAdmin: boolean;
}

/** A refused request: answered with 401 and Neutron's/Keystone's body for it. */
export interface AuthFailure {
  readonly status: 401;
  readonly message: string;
}

export interface Authenticator {
  /** `'noauth'` or `'keystone'`. */
  readonly kind: string;
  /** Routes of its own (Keystone's `/v3`), registered before the Neutron routes. */
  register(app: FastifyInstance): Promise<void> | void;
  /** The context of one request, from its headers (lower-case names, as Node gives them). */
  authenticate(headers: Readonly<Record<string, string | string[] | undefined>>): RequestContext | AuthFailure;
}

/** The project every noauth request acts in (the real noauth Neutron has none; see CONTAINERS.md §7.2). */
export const NOAUTH_PROJECT_ID = 'admin';

/** `--auth=noauth`: every request is the admin of {@link NOAUTH_PROJECT_ID}. */
export function createNoAuth(): Authenticator {
  const ctx: RequestContext = { projectId: NOAUTH_PROJECT_ID, userId: 'admin', roles: ['admin'], isAdmin: true };
  return { kind: 'noauth', register: () => {}, authenticate: () => ctx };
}

export function isAuthFailure(x: RequestContext | AuthFailure): x is AuthFailure {
  return (x as AuthFailure).status === 401;
}
