/**
 * The identity directory of `ovnts ipam --auth=keystone`: projects, users and
 * their role assignments, read once from the `--users=FILE` JSON document
 * (format in ./README.md). Everything lives in Keystone's `Default` domain.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isSupportedPasswordHash } from './password.js';

/** Keystone's default domain, the only one served. */
export const DEFAULT_DOMAIN = { id: 'default', name: 'Default' } as const;

/**
 * Roles Keystone's bootstrap creates, each implying the next
 * (`admin` → `member` → `reader`): a token lists the implied roles too.
 */
const IMPLIED_ROLES: Readonly<Record<string, readonly string[]>> = {
  admin: ['member', 'reader'],
  member: ['reader'],
};

export interface Project {
  readonly id: string;
  readonly name: string;
}

export interface User {
  readonly id: string;
  readonly name: string;
  /** Plain text (`password`) or a passlib hash (`password_hash`), see password.ts. */
  readonly password: { readonly plain: string } | { readonly hash: string };
  readonly enabled: boolean;
  readonly defaultProjectId: string | null;
  /** project id → role names as assigned (not yet expanded by implication). */
  readonly roles: ReadonlyMap<string, readonly string[]>;
}

export interface Directory {
  readonly projects: readonly Project[];
  readonly users: readonly User[];
}

export class UsersFileError extends Error {
  override readonly name = 'UsersFileError';
}

/**
 * A stable id for an entity the file names without one. Keystone ids are
 * 32 hex digits; deriving ours from the name keeps a project's resources (NB
 * `neutron:project_id`) its own across restarts.
 */
export function derivedId(kind: 'project' | 'user' | 'role' | 'endpoint' | 'service', name: string): string {
  return createHash('sha256').update(`ovnts-keystone:${kind}:${name}`).digest('hex').slice(0, 32);
}

/** The role names a token carries for `assigned`: the assigned ones plus those they imply, each once. */
export function expandRoles(assigned: readonly string[]): string[] {
  const out: string[] = [];
  const add = (r: string): void => {
    if (out.includes(r)) return;
    out.push(r);
    for (const implied of IMPLIED_ROLES[r] ?? []) add(implied);
  };
  for (const r of assigned) add(r);
  return out;
}

export function findProject(dir: Directory, ref: { id?: string; name?: string }): Project | undefined {
  if (ref.id !== undefined) return dir.projects.find((p) => p.id === ref.id);
  return dir.projects.find((p) => p.name === ref.name);
}

export function findUser(dir: Directory, ref: { id?: string; name?: string }): User | undefined {
  if (ref.id !== undefined) return dir.users.find((u) => u.id === ref.id);
  return dir.users.find((u) => u.name === ref.name);
}

/** Reads and checks `--users=FILE`; every mistake is an error naming where it is. */
export function loadUsersFile(path: string): Directory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsersFileError(
      `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsersFileError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return parseDirectory(doc);
  } catch (e) {
    if (e instanceof UsersFileError) throw new UsersFileError(`${path}: ${e.message}`);
    throw e;
  }
}

export type Json = Record<string, unknown>;

/** A JSON object (not an array, not null). */
export function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function optionalString(o: Json, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new UsersFileError(`${where}: "${key}" must be a non-empty string`);
  return v;
}

function checkKeys(o: Json, allowed: readonly string[], where: string): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new UsersFileError(`${where}: unknown key(s) ${extra.map((k) => `"${k}"`).join(', ')}`);
}

/** Checks a parsed users document (see README.md) and resolves names to ids. */
export function parseDirectory(doc: unknown): Directory {
  if (!isObject(doc)) throw new UsersFileError('the document must be an object with "projects" and "users"');
  checkKeys(doc, ['projects', 'users'], 'top level');
  const rawProjects = doc['projects'];
  const rawUsers = doc['users'];
  if (!Array.isArray(rawProjects)) throw new UsersFileError('"projects" must be a list');
  if (!Array.isArray(rawUsers)) throw new UsersFileError('"users" must be a list');

  const projects: Project[] = rawProjects.map((p, i) => {
    const where = `projects[${i}]`;
    if (!isObject(p)) throw new UsersFileError(`${where}: must be an object`);
    checkKeys(p, ['name', 'id'], where);
    const name = optionalString(p, 'name', where);
    if (name === undefined) throw new UsersFileError(`${where}: "name" is required`);
    return { name, id: optionalString(p, 'id', where) ?? derivedId('project', name) };
  });
  checkUnique(projects, 'project');
  const projectByName = new Map(projects.map((p) => [p.name, p]));

  const users: User[] = rawUsers.map((u, i) => {
    const where = `users[${i}]`;
    if (!isObject(u)) throw new UsersFileError(`${where}: must be an object`);
    checkKeys(u, ['name', 'id', 'password', 'password_hash', 'enabled', 'default_project', 'roles'], where);
    const name = optionalString(u, 'name', where);
    if (name === undefined) throw new UsersFileError(`${where}: "name" is required`);
    const plain = u['password'];
    const hash = u['password_hash'];
    let password: User['password'];
    if (typeof plain === 'string' && hash === undefined) password = { plain };
    else if (typeof hash === 'string' && plain === undefined) {
      if (!isSupportedPasswordHash(hash)) {
        throw new UsersFileError(`${where}: "password_hash" must be a passlib $scrypt$ or $pbkdf2-sha512$ hash`);
      }
      password = { hash };
    } else throw new UsersFileError(`${where}: exactly one of "password" and "password_hash" (strings) is required`);
    const enabled = u['enabled'] ?? true;
    if (typeof enabled !== 'boolean') throw new UsersFileError(`${where}: "enabled" must be true or false`);
    const roles = new Map<string, string[]>();
    const rawRoles = u['roles'] ?? {};
    if (!isObject(rawRoles)) throw new UsersFileError(`${where}: "roles" must map project names to lists of role names`);
    for (const [projectName, names] of Object.entries(rawRoles)) {
      const project = projectByName.get(projectName);
      if (!project) throw new UsersFileError(`${where}: roles name project "${projectName}", which "projects" does not list`);
      if (!Array.isArray(names) || names.some((r) => typeof r !== 'string' || r === '')) {
        throw new UsersFileError(`${where}: roles of "${projectName}" must be a list of role names`);
      }
      roles.set(project.id, names as string[]);
    }
    let defaultProjectId: string | null = null;
    const dp = optionalString(u, 'default_project', where);
    if (dp !== undefined) {
      const project = projectByName.get(dp);
      if (!project) throw new UsersFileError(`${where}: default_project "${dp}" is not in "projects"`);
      defaultProjectId = project.id;
    }
    return { name, id: optionalString(u, 'id', where) ?? derivedId('user', name), password, enabled, defaultProjectId, roles };
  });
  checkUnique(users, 'user');
  return { projects, users };
}

function checkUnique(items: readonly { id: string; name: string }[], kind: string): void {
  const names = new Set<string>();
  const ids = new Set<string>();
  for (const x of items) {
    if (names.has(x.name)) throw new UsersFileError(`two ${kind}s are named "${x.name}"`);
    if (ids.has(x.id)) throw new UsersFileError(`two ${kind}s have the id "${x.id}"`);
    names.add(x.name);
    ids.add(x.id);
  }
}
