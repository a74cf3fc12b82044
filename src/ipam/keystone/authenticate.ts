/**
 * Turns an identity API request body into a token, or into the error Keystone
 * answers it with. Password and token methods, project scope (by id, or by
 * name and domain) and unscoped tokens, as Keystone v3 does them; and v2.0's
 * `passwordCredentials` + `tenantId`/`tenantName`, which python-neutronclient's
 * legacy client (seed 004's `auth_strategy='keystone'`) still posts.
 * The messages were checked against the real keystone 22 (Zed).
 */
import { validationMessage, UNAUTHORIZED_MESSAGE } from './bodies.js';
import { verifyPassword } from './password.js';
import type { Token, TokenScope, TokenStore } from './tokens.js';
import { DEFAULT_DOMAIN, expandRoles, findProject, findUser, isObject, type Directory, type Json, type User } from './users.js';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  constructor(
    readonly status: 400 | 401 | 403 | 404,
    message: string,
  ) {
    super(message);
  }
}

const unauthorized = (): IdentityError => new IdentityError(401, UNAUTHORIZED_MESSAGE);
const expecting = (what: string, where: string): IdentityError =>
  new IdentityError(400, validationMessage(`Expecting to find ${what} in ${where}.`));

function str(o: Json, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw new IdentityError(400, `Invalid input for field '${field}': ${JSON.stringify(v)} is not of type 'string'`);
  return v;
}

/** A `{"id"}` or `{"name", "domain": {"id"|"name"}}` reference, as Keystone reads users and projects. */
function entityRef(o: Json, what: 'user' | 'project'): { id?: string; name?: string } {
  const id = str(o, 'id', 'id');
  if (id !== undefined) return { id };
  const name = str(o, 'name', 'name');
  if (name === undefined) throw expecting('id or name', what);
  const domain = o['domain'];
  if (!isObject(domain)) throw expecting('domain', what);
  const domainId = str(domain, 'id', 'id');
  const domainName = str(domain, 'name', 'name');
  if (domainId === undefined && domainName === undefined) throw expecting('id or name', 'domain');
  // Only Keystone's Default domain exists here: a name in any other domain is unknown.
  if ((domainId !== undefined && domainId !== DEFAULT_DOMAIN.id) || (domainId === undefined && domainName !== DEFAULT_DOMAIN.name)) {
    throw unauthorized();
  }
  return { name };
}

async function checkPassword(user: User | undefined, password: unknown): Promise<User> {
  // An unknown user, a wrong password and a disabled account all get the same answer, as in Keystone.
  const ok = typeof password === 'string' && (await verifyPassword(user?.password ?? { plain: '\0' }, password));
  if (!user || !ok || !user.enabled) throw unauthorized();
  return user;
}

/** The scope of a project-scoped token, or 401 when the user holds no role there. */
function projectScope(dir: Directory, user: User, ref: { id?: string; name?: string }): TokenScope {
  const project = findProject(dir, ref);
  const assigned = project ? user.roles.get(project.id) : undefined;
  if (!project || !assigned || assigned.length === 0) throw unauthorized();
  return { project: { id: project.id, name: project.name }, roles: expandRoles(assigned) };
}

/** `POST /v3/auth/tokens`. */
export async function authenticateV3(dir: Directory, store: TokenStore, body: unknown): Promise<Token> {
  if (!isObject(body) || !isObject(body['auth'])) throw expecting('auth', 'request body');
  const auth = body['auth'];
  const identity = auth['identity'];
  if (!isObject(identity)) throw expecting('identity', 'auth');
  const methods = identity['methods'];
  if (!Array.isArray(methods)) throw new IdentityError(400, "Invalid input for field 'identity': 'methods' is a required property");
  if (methods.some((m) => typeof m !== 'string')) throw new IdentityError(400, "Invalid input for field 'methods': not a list of strings");
  for (const m of methods as string[]) if (!isObject(identity[m])) throw expecting(m, 'identity');

  let user: User;
  let parent: Token | undefined;
  if (methods.length === 1 && methods[0] === 'password') {
    const u = (identity['password'] as Json)['user'];
    if (!isObject(u)) throw expecting('user', 'password');
    user = await checkPassword(findUser(dir, entityRef(u, 'user')), u['password']);
  } else if (methods.length === 1 && methods[0] === 'token') {
    const id = str(identity['token'] as Json, 'id', 'id');
    if (id === undefined) throw new IdentityError(400, "Invalid input for field 'token': 'id' is a required property");
    parent = store.lookup(id);
    if (!parent) throw new IdentityError(404, `Could not find token: ${id}.`);
    const found = findUser(dir, { id: parent.userId });
    if (!found || !found.enabled) throw unauthorized();
    user = found;
  } else {
    // Several methods at once (multi-factor) or others (totp, application_credential...) are not served.
    throw new IdentityError(401, 'Attempted to authenticate with an unsupported method.');
  }

  let scope: TokenScope | null;
  const rawScope = auth['scope'];
  if (rawScope === undefined) {
    // Keystone scopes to the user's default project when the request names none.
    scope = user.defaultProjectId === null ? null : projectScope(dir, user, { id: user.defaultProjectId });
  } else if (rawScope === 'unscoped') {
    scope = null;
  } else {
    if (!isObject(rawScope) || Object.keys(rawScope).length !== 1) {
      throw expecting('system, project, domain, OS-TRUST:trust or unscoped', 'scope');
    }
    const project = rawScope['project'];
    // Domain and system scopes exist in Keystone; no one holds a role on them here.
    if (!isObject(project)) throw unauthorized();
    scope = projectScope(dir, user, entityRef(project, 'project'));
  }

  const fields = { userId: user.id, userName: user.name, scope, methods: methods as string[] };
  return parent ? store.issue({ ...fields, expiresAt: parent.expiresAt, parentAuditId: parent.auditIds[0]! }) : store.issue(fields);
}

/** `POST /v2.0/tokens` (Keystone's removed v2.0 API, as python-neutronclient 8's HTTPClient posts it). */
export async function authenticateV2(dir: Directory, store: TokenStore, body: unknown): Promise<Token> {
  if (!isObject(body) || !isObject(body['auth'])) throw expecting('auth', 'request body');
  const auth = body['auth'];
  const creds = auth['passwordCredentials'];
  if (!isObject(creds)) throw unauthorized();
  const userId = str(creds, 'userId', 'userId');
  const username = str(creds, 'username', 'username');
  const user = await checkPassword(
    findUser(dir, userId !== undefined ? { id: userId } : username !== undefined ? { name: username } : {}),
    creds['password'],
  );
  const tenantId = str(auth, 'tenantId', 'tenantId');
  const tenantName = str(auth, 'tenantName', 'tenantName');
  let scope: TokenScope | null = null;
  if (tenantId !== undefined) scope = projectScope(dir, user, { id: tenantId });
  else if (tenantName !== undefined) scope = projectScope(dir, user, { name: tenantName });
  else if (user.defaultProjectId !== null) scope = projectScope(dir, user, { id: user.defaultProjectId });
  return store.issue({ userId: user.id, userName: user.name, scope, methods: ['password'] });
}
