/**
 * Response bodies of the Keystone subset, shaped as Keystone 22 (Zed) writes
 * them (observed against the real keystone with the openstack CLI), and the
 * v2.0 `access` document the 2015-era python-neutronclient still asks for.
 */
import { DEFAULT_DOMAIN, derivedId } from './users.js';
import type { Token } from './tokens.js';

export const REGION = 'RegionOne';

/** Where this server is reached, from the request (scheme and Host header). */
export interface PublicUrls {
  /** The Neutron API root, e.g. `http://127.0.0.1:9696` (no trailing slash: clients append `/v2.0/...`). */
  readonly network: string;
  /** The identity v3 root, e.g. `http://127.0.0.1:9696/v3`. */
  readonly identityV3: string;
  readonly identityV2: string;
}

export function publicUrls(protocol: string, host: string): PublicUrls {
  const base = `${protocol}://${host}`;
  return { network: base, identityV3: `${base}/v3`, identityV2: `${base}/v2.0` };
}

const INTERFACES = ['public', 'internal', 'admin'] as const;

const SERVICES = [
  { type: 'network', name: 'neutron', url: (u: PublicUrls): string => u.network },
  { type: 'identity', name: 'keystone', url: (u: PublicUrls): string => u.identityV3 },
] as const;

/** Keystone's timestamp form: `2026-12-07T00:20:46.000000Z`. */
export function keystoneTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function v3Catalog(urls: PublicUrls): unknown[] {
  return SERVICES.map((s) => ({
    endpoints: INTERFACES.map((iface) => ({
      id: derivedId('endpoint', `${s.type}/${iface}`),
      interface: iface,
      region_id: REGION,
      url: s.url(urls),
      region: REGION,
    })),
    id: derivedId('service', s.type),
    type: s.type,
    name: s.name,
  }));
}

/** The `{"token": ...}` body of `POST`/`GET /v3/auth/tokens`. */
export function v3TokenBody(token: Token, urls: PublicUrls, withCatalog: boolean): { token: Record<string, unknown> } {
  const body: Record<string, unknown> = {
    methods: token.methods,
    user: { domain: DEFAULT_DOMAIN, id: token.userId, name: token.userName, password_expires_at: null },
    audit_ids: token.auditIds,
    expires_at: keystoneTime(token.expiresAt),
    issued_at: keystoneTime(token.issuedAt),
  };
  if (token.scope) {
    body['project'] = { domain: DEFAULT_DOMAIN, id: token.scope.project.id, name: token.scope.project.name };
    body['is_domain'] = false;
    body['roles'] = token.scope.roles.map((name) => ({ id: derivedId('role', name), name }));
    if (withCatalog) body['catalog'] = v3Catalog(urls);
  }
  return { token: body };
}

/** The `{"access": ...}` body of the v2.0 `POST /v2.0/tokens` (keystoneauth1's AccessInfoV2 reads it). */
export function v2AccessBody(token: Token, urls: PublicUrls): { access: Record<string, unknown> } {
  const scope = token.scope;
  const v2Token: Record<string, unknown> = {
    issued_at: keystoneTime(token.issuedAt).replace(/Z$/, ''),
    expires: new Date(token.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    id: token.id,
    audit_ids: token.auditIds,
  };
  if (scope) v2Token['tenant'] = { id: scope.project.id, name: scope.project.name, enabled: true, description: null };
  const roles = scope?.roles ?? [];
  const serviceCatalog = scope
    ? SERVICES.map((s) => {
        const url = s.type === 'identity' ? urls.identityV2 : s.url(urls);
        return {
          endpoints: [{ adminURL: url, region: REGION, internalURL: url, id: derivedId('endpoint', `${s.type}/v2`), publicURL: url }],
          endpoints_links: [],
          type: s.type,
          name: s.name,
        };
      })
    : [];
  return {
    access: {
      token: v2Token,
      serviceCatalog,
      user: { username: token.userName, roles_links: [], id: token.userId, roles: roles.map((name) => ({ name })), name: token.userName },
      metadata: { is_admin: 0, roles: roles.map((name) => derivedId('role', name)) },
    },
  };
}

/** `GET /v3`: the version document keystoneauth discovers before it authenticates. */
export function v3VersionBody(urls: PublicUrls): unknown {
  return {
    version: {
      id: 'v3.14',
      status: 'stable',
      updated: '2020-04-07T00:00:00Z',
      links: [{ rel: 'self', href: `${urls.identityV3}/` }],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
    },
  };
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
};

/** Keystone's error body: `{"error":{"code":N,"message":"...","title":"..."}}`. */
export function keystoneError(code: number, message: string): { error: { code: number; message: string; title: string } } {
  return { error: { code, message, title: TITLES[code] ?? 'Error' } };
}

/** Keystone's (and keystonemiddleware's) message for every refused credential or token. */
export const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.';

/** The challenge Keystone and keystonemiddleware send with a 401. */
export function wwwAuthenticate(urls: PublicUrls): string {
  return `Keystone uri="${urls.identityV3}"`;
}

/** ValidationError's fixed tail in Keystone's messages. */
export function validationMessage(what: string): string {
  return `${what} The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`;
}
