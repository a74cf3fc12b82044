/**
 * The Keystone subset against the real Keystone 22 (Zed; Debian's
 * python3-keystone on sqlite with Fernet tokens, served by wsgiref), given the
 * same users, projects and roles: the same requests to both — the openstack
 * CLI's `token issue` for good and refused credentials, and a corpus of raw
 * `POST /v3/auth/tokens` bodies, valid and invalid — must give the same status
 * codes, the same error bodies and the same token document shape, once ids,
 * ports and times are normalized.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Fastify from 'fastify';
import { createKeystoneAuthenticator, parseDirectory } from '../../src/ipam/keystone/index.js';
import { cleanupAll, runOk, run, spawnDaemon, tmpDir } from '../helpers/proc.js';
import { passwordAuthEnv } from '../helpers/keystone-env.js';

after(cleanupAll);

const PY = '/usr/bin/python3';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  assert.ok(addr && typeof addr === 'object');
  return addr.port;
}

/** users: name → [password, project → roles, enabled]. The same on both sides. */
const PEOPLE: Record<string, { password: string; roles: Record<string, string[]>; enabled: boolean }> = {
  admin: { password: 'adminpw', roles: { admin: ['admin'] }, enabled: true },
  alice: { password: 'alicepw', roles: { demo: ['member'] }, enabled: true },
  rita: { password: 'ritapw', roles: { demo: ['reader'] }, enabled: true },
  off: { password: 'offpw', roles: { demo: ['member'] }, enabled: false },
};

interface Side {
  readonly url: string;
  /** project name → id, user name → id, on this side. */
  readonly ids: Map<string, string>;
}

/** The real keystone: keystone-manage db_sync/fernet_setup/bootstrap, then its public WSGI app. */
async function startRealKeystone(): Promise<Side> {
  const dir = tmpDir('real-keystone').path;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const conf = join(dir, 'keystone.conf');
  writeFileSync(
    conf,
    [
      '[DEFAULT]',
      `log_file = ${join(dir, 'keystone.log')}`,
      '[database]',
      `connection = sqlite:///${join(dir, 'keystone.db')}`,
      '[token]',
      'provider = fernet',
      'expiration = 3600',
      '[fernet_tokens]',
      `key_repository = ${join(dir, 'fernet')}`,
      '[fernet_receipts]',
      `key_repository = ${join(dir, 'fernet-receipts')}`,
      '[credential]',
      `key_repository = ${join(dir, 'credential')}`,
      '',
    ].join('\n'),
  );
  const manage = (...args: string[]) => runOk('keystone-manage', ['--config-file', conf, ...args], { timeoutMs: 120_000 });
  await manage('db_sync');
  await manage('fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root');
  await manage('credential_setup', '--keystone-user', 'root', '--keystone-group', 'root');
  await manage(
    'bootstrap',
    '--bootstrap-password',
    PEOPLE['admin']!.password,
    '--bootstrap-public-url',
    `${url}/v3`,
    '--bootstrap-region-id',
    'RegionOne',
  );
  const serve = join(dir, 'serve.py');
  writeFileSync(
    serve,
    [
      'import os, sys',
      `os.environ['OS_KEYSTONE_CONFIG_FILES'] = ${JSON.stringify(conf)}`,
      'from keystone.server import wsgi',
      'from wsgiref.simple_server import make_server, WSGIRequestHandler',
      'class Quiet(WSGIRequestHandler):',
      '    def log_request(self, *a): pass',
      `make_server('127.0.0.1', ${port}, wsgi.initialize_public_application(), handler_class=Quiet).serve_forever()`,
      '',
    ].join('\n'),
  );
  await spawnDaemon(PY, [serve], {
    name: 'keystone',
    readyWhen: async () => (await fetch(`${url}/v3`).catch(() => undefined))?.ok === true,
    readyTimeoutMs: 60_000,
  });
  // The rest through the identity API itself, with a token of the bootstrapped admin.
  const login = await fetch(`${url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: PEOPLE['admin']!.password } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    }),
  });
  assert.equal(login.status, 201);
  const adminToken = login.headers.get('x-subject-token')!;
  const ids = new Map<string, string>();
  const call = async (method: string, path: string, body?: unknown): Promise<Record<string, { id: string }> & Record<string, unknown>> => {
    const res = await fetch(`${url}/v3${path}`, {
      method,
      headers: { 'x-auth-token': adminToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status}`);
    return (res.status === 204 ? {} : await res.json()) as Record<string, { id: string }> & Record<string, unknown>;
  };
  const login2 = (await login.json()) as { token: { project: { id: string }; user: { id: string } } };
  ids.set('project:admin', login2.token.project.id);
  ids.set('user:admin', login2.token.user.id);
  ids.set('project:demo', (await call('POST', '/projects', { project: { name: 'demo', domain_id: 'default' } }))['project']!.id);
  const roles = new Map(((await call('GET', '/roles'))['roles'] as unknown as { id: string; name: string }[]).map((r) => [r.name, r.id]));
  for (const [name, p] of Object.entries(PEOPLE)) {
    if (name === 'admin') continue;
    const userId = (await call('POST', '/users', { user: { name, password: p.password, enabled: p.enabled, domain_id: 'default' } }))[
      'user'
    ]!.id;
    ids.set(`user:${name}`, userId);
    for (const [project, rs] of Object.entries(p.roles)) {
      for (const role of rs) await call('PUT', `/projects/${ids.get(`project:${project}`)!}/users/${userId}/roles/${roles.get(role)!}`);
    }
  }
  return { url, ids };
}

async function startOurs(): Promise<Side> {
  const dir = parseDirectory({
    projects: [{ name: 'admin' }, { name: 'demo' }],
    users: Object.entries(PEOPLE).map(([name, p]) => ({ name, password: p.password, roles: p.roles, enabled: p.enabled })),
  });
  const auth = createKeystoneAuthenticator({ users: dir });
  const app = Fastify();
  await auth.register(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  closeOurs = () => app.close();
  const addr = app.server.address();
  assert.ok(addr && typeof addr === 'object');
  const ids = new Map<string, string>();
  for (const p of dir.projects) ids.set(`project:${p.name}`, p.id);
  for (const u of dir.users) ids.set(`user:${u.name}`, u.id);
  return { url: `http://127.0.0.1:${addr.port}`, ids };
}

let real: Side;
let ours: Side;
let closeOurs: () => Promise<void> = async () => undefined;
after(() => closeOurs());
before(async () => {
  [real, ours] = await Promise.all([startRealKeystone(), startOurs()]);
});

/** Replaces the side's URL and its ids by placeholders, and tokens and times by their kind. */
function normalize(side: Side, text: string): string {
  let s = text.split(side.url).join('URL');
  for (const [k, v] of side.ids) s = s.split(v).join(`<${k}>`);
  return s.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+0000)?/g, '<time>').replace(/req-[0-9a-f-]{36}/g, '<req>');
}

async function cli(side: Side, user: string, password: string, project: string, ...args: string[]) {
  const r = await run('openstack', args, {
    timeoutMs: 60_000,
    env: passwordAuthEnv(`${side.url}/v3`, user, password, project),
  });
  return { code: r.code, stdout: normalize(side, r.stdout), stderr: normalize(side, r.stderr) };
}

test(
  'openstack token issue: the same columns and ids for good credentials, the same errors for refused ones',
  { timeout: 240_000 },
  async () => {
    const good = await Promise.all([real, ours].map((s) => cli(s, 'alice', 'alicepw', 'demo', 'token', 'issue', '-f', 'json')));
    for (const g of good) assert.equal(g.code, 0, g.stderr);
    const shape = (out: string): Record<string, string> => {
      const o = JSON.parse(out) as Record<string, string>;
      return { ...o, id: /^[A-Za-z0-9_=-]{32,}$/.test(o['id']!) ? '<token>' : String(o['id']) };
    };
    assert.deepEqual(shape(good[1]!.stdout), shape(good[0]!.stdout));
    assert.equal(shape(good[1]!.stdout)['project_id'], '<project:demo>');

    const refused: [string, string, string][] = [
      ['alice', 'wrong', 'demo'],
      ['nobody', 'x', 'demo'],
      ['alice', 'alicepw', 'admin'],
      ['alice', 'alicepw', 'nosuch'],
      ['off', 'offpw', 'demo'],
    ];
    for (const [u, p, proj] of refused) {
      const [r, o] = await Promise.all([real, ours].map((s) => cli(s, u, p, proj, 'token', 'issue')));
      assert.deepEqual(o, r, `${u}/${proj}`);
    }
  },
);

test('POST /v3/auth/tokens: status, errors and token documents as Keystone answers them', { timeout: 120_000 }, async () => {
  const pw = (user: Record<string, unknown>) => ({ methods: ['password'], password: { user } });
  const byName = (name: string, password: string, domain: Record<string, string> = { name: 'Default' }) => pw({ name, domain, password });
  const corpus: [string, string, string][] = [
    [
      'scoped by names',
      'application/json',
      JSON.stringify({ auth: { identity: byName('alice', 'alicepw'), scope: { project: { name: 'demo', domain: { name: 'Default' } } } } }),
    ],
    [
      'scoped, domain by id',
      'application/json',
      JSON.stringify({
        auth: { identity: byName('admin', 'adminpw', { id: 'default' }), scope: { project: { name: 'admin', domain: { id: 'default' } } } },
      }),
    ],
    ['unscoped', 'application/json', JSON.stringify({ auth: { identity: byName('rita', 'ritapw') } })],
    ['explicitly unscoped', 'application/json', JSON.stringify({ auth: { identity: byName('alice', 'alicepw'), scope: 'unscoped' } })],
    [
      'reader scoped',
      'application/json',
      JSON.stringify({ auth: { identity: byName('rita', 'ritapw'), scope: { project: { name: 'demo', domain: { name: 'Default' } } } } }),
    ],
    ['wrong password', 'application/json', JSON.stringify({ auth: { identity: byName('alice', 'x') } })],
    ['unknown user', 'application/json', JSON.stringify({ auth: { identity: byName('zed', 'x') } })],
    ['other domain', 'application/json', JSON.stringify({ auth: { identity: byName('alice', 'alicepw', { name: 'Other' }) } })],
    ['disabled', 'application/json', JSON.stringify({ auth: { identity: byName('off', 'offpw') } })],
    [
      'no role there',
      'application/json',
      JSON.stringify({
        auth: { identity: byName('alice', 'alicepw'), scope: { project: { name: 'admin', domain: { name: 'Default' } } } },
      }),
    ],
    [
      'unknown project',
      'application/json',
      JSON.stringify({ auth: { identity: byName('alice', 'alicepw'), scope: { project: { name: 'zz', domain: { name: 'Default' } } } } }),
    ],
    [
      'domain scope',
      'application/json',
      JSON.stringify({ auth: { identity: byName('alice', 'alicepw'), scope: { domain: { name: 'Default' } } } }),
    ],
    [
      'two scopes',
      'application/json',
      JSON.stringify({
        auth: {
          identity: byName('alice', 'alicepw'),
          scope: { project: { name: 'demo', domain: { name: 'Default' } }, domain: { id: 'default' } },
        },
      }),
    ],
    [
      'project without domain',
      'application/json',
      JSON.stringify({ auth: { identity: byName('alice', 'alicepw'), scope: { project: { name: 'demo' } } } }),
    ],
    ['user without domain', 'application/json', JSON.stringify({ auth: { identity: pw({ name: 'alice', password: 'alicepw' }) } })],
    ['no password', 'application/json', JSON.stringify({ auth: { identity: pw({ name: 'alice', domain: { name: 'Default' } }) } })],
    ['method without its section', 'application/json', JSON.stringify({ auth: { identity: { methods: ['password'] } } })],
    ['unknown method', 'application/json', JSON.stringify({ auth: { identity: { methods: ['foo'] } } })],
    ['no auth', 'application/json', JSON.stringify({ x: 1 })],
    ['malformed JSON', 'application/json', '{"auth":'],
    ['not JSON', 'text/plain', 'x'],
  ];
  for (const [what, type, body] of corpus) {
    const answers = await Promise.all(
      [real, ours].map(async (side) => {
        const res = await fetch(`${side.url}/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': type }, body });
        const doc = JSON.parse(await res.text()) as Record<string, unknown>;
        return {
          status: res.status,
          subjectToken: res.headers.get('x-subject-token') === null ? 'absent' : 'present',
          challenge: normalize(side, res.headers.get('www-authenticate') ?? ''),
          body: JSON.parse(normalize(side, JSON.stringify(shapeOf(doc)))) as unknown,
        };
      }),
    );
    assert.deepEqual(answers[1], answers[0], what);
  }
});

/**
 * What must agree in a body: error documents whole; a token document with its
 * random parts (audit ids, role and endpoint ids) reduced to their kind, and its
 * catalog reduced to the identity service, the only one the real keystone lists.
 */
function shapeOf(doc: Record<string, unknown>): unknown {
  const token = doc['token'] as Record<string, unknown> | undefined;
  if (token === undefined) return doc;
  const t: Record<string, unknown> = { ...token, audit_ids: (token['audit_ids'] as string[]).map(() => '<audit>') };
  if (Array.isArray(token['roles'])) t['roles'] = (token['roles'] as { name: string }[]).map((r) => r.name).sort();
  if (Array.isArray(token['catalog'])) {
    t['catalog'] = (
      token['catalog'] as {
        type: string;
        name: string;
        endpoints: { interface: string; url: string; region: string; region_id: string }[];
      }[]
    )
      .filter((s) => s.type === 'identity')
      .map((s) => ({
        type: s.type,
        name: s.name,
        endpoints: s.endpoints
          .map((e) => ({ interface: e.interface, url: e.url, region: e.region, region_id: e.region_id }))
          .filter((e) => e.interface === 'public'),
      }));
  }
  return { token: t, keys: Object.keys(token) };
}

test(
  'GET, HEAD and DELETE /v3/auth/tokens: the same status for the owner, a forged subject, no caller token, no subject',
  { timeout: 120_000 },
  async () => {
    const issue = async (side: Side, name: string, password: string): Promise<string> => {
      const res = await fetch(`${side.url}/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          auth: {
            identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } },
            scope: { project: { name: 'demo', domain: { id: 'default' } } },
          },
        }),
      });
      assert.equal(res.status, 201);
      return res.headers.get('x-subject-token')!;
    };
    const statuses = await Promise.all(
      [real, ours].map(async (side) => {
        const mine = await issue(side, 'alice', 'alicepw');
        const theirs = await issue(side, 'rita', 'ritapw');
        const out: Record<string, number> = {};
        const req = async (what: string, method: string, headers: Record<string, string>): Promise<void> => {
          out[what] = (await fetch(`${side.url}/v3/auth/tokens`, { method, headers })).status;
        };
        await req('GET own', 'GET', { 'x-auth-token': mine, 'x-subject-token': mine });
        await req('HEAD own', 'HEAD', { 'x-auth-token': mine, 'x-subject-token': mine });
        await req("GET another user's", 'GET', { 'x-auth-token': mine, 'x-subject-token': theirs });
        await req('GET forged subject', 'GET', { 'x-auth-token': mine, 'x-subject-token': 'gAAAAAforged' });
        await req('GET no caller token', 'GET', { 'x-subject-token': mine });
        await req('GET forged caller token', 'GET', { 'x-auth-token': 'forged', 'x-subject-token': mine });
        await req('GET no subject', 'GET', { 'x-auth-token': mine });
        await req('DELETE own', 'DELETE', { 'x-auth-token': theirs, 'x-subject-token': theirs });
        await req('GET revoked', 'GET', { 'x-auth-token': mine, 'x-subject-token': theirs });
        return out;
      }),
    );
    assert.deepEqual(statuses[1], statuses[0]);
  },
);
