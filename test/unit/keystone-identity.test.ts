/**
 * The Keystone subset on its own: the users file, passlib-compatible hashes
 * (checked both ways with the real passlib), token expiry and forgery, and the
 * real clients against it — `openstack token issue|revoke` (keystoneauth1's
 * v3 password auth) and python-neutronclient's legacy keystone client with
 * seed 004's OS_USERNAME/OS_PASSWORD/OS_TENANT_ID/OS_AUTH_URL. A one-route
 * probe under /v2.0 stands in for the Neutron API, to see what the guard lets through.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  createKeystoneAuthenticator,
  hashPassword,
  parseDirectory,
  verifyPassword,
  type KeystoneAuthenticator,
} from '../../src/ipam/keystone/index.js';
import { loadUsersFile, UsersFileError, derivedId } from '../../src/ipam/keystone/users.js';
import { TokenStore } from '../../src/ipam/keystone/tokens.js';
import { cleanupAll, run, tmpDir } from '../helpers/proc.js';
import { passwordAuthEnv } from '../helpers/keystone-env.js';

after(cleanupAll);

const DEMO_ID = 'b7f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5';
const USERS = {
  projects: [{ name: 'admin' }, { name: 'demo', id: DEMO_ID }, { name: 'other' }],
  users: [
    { name: 'admin', password: 'adminpw', roles: { admin: ['admin'], demo: ['admin'] } },
    { name: 'alice', password: 'alicepw', roles: { demo: ['member'] }, default_project: 'demo' },
    { name: 'rita', password: 'ritapw', roles: { demo: ['reader'] } },
    { name: 'off', password: 'offpw', enabled: false, roles: { demo: ['member'] } },
  ],
};

const PY = '/usr/bin/python3';

async function python(code: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(PY, ['-c', code], { env, timeoutMs: 300_000 }); // CLI start-up under a loaded 2-core CI runner can take a minute
}

interface Served {
  readonly url: string;
  readonly auth: KeystoneAuthenticator;
  readonly app: FastifyInstance;
}

async function serve(opts: { tokenExpirationSeconds?: number; now?: () => number } = {}): Promise<Served> {
  const auth = createKeystoneAuthenticator({ users: parseDirectory(USERS), ...opts });
  const app = Fastify();
  await auth.register(app);
  // The probe: what a Neutron handler would get from the authenticator.
  app.get('/v2.0/whoami', async (request) => auth.authenticate(request.headers));
  app.get('/', async () => ({ versions: [] }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  after(() => app.close());
  const addr = app.server.address();
  assert.ok(addr && typeof addr === 'object');
  return { url: `http://127.0.0.1:${addr.port}`, auth, app };
}

async function openstack(env: Record<string, string>, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run('openstack', args, { env, timeoutMs: 300_000 }); // CLI start-up under a loaded 2-core CI runner can take a minute
}

async function whoami(url: string, token: string | undefined): Promise<{ status: number; body: unknown; headers: Headers; text: string }> {
  const res = await fetch(`${url}/v2.0/whoami`, { headers: token === undefined ? {} : { 'x-auth-token': token } });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as unknown, headers: res.headers, text };
}

test('the users file: names resolve to ids, ids are stable, and every mistake names its place', () => {
  const dir = parseDirectory(USERS);
  assert.equal(dir.projects.find((p) => p.name === 'demo')?.id, DEMO_ID);
  assert.equal(dir.projects.find((p) => p.name === 'admin')?.id, derivedId('project', 'admin'));
  assert.match(derivedId('project', 'admin'), /^[0-9a-f]{32}$/);
  assert.deepEqual(dir.users.find((u) => u.name === 'alice')?.roles.get(DEMO_ID), ['member']);
  const bad: [unknown, RegExp][] = [
    [{ projects: [], users: [{ name: 'u', password: 'p', roles: { nope: ['member'] } }] }, /users\[0\]: roles name project "nope"/],
    [{ projects: [], users: [{ name: 'u', password: 'p', password_hash: '$scrypt$x' }] }, /exactly one of "password" and "password_hash"/],
    [{ projects: [], users: [{ name: 'u', password_hash: '$2b$12$abc' }] }, /passlib \$scrypt\$ or \$pbkdf2-sha512\$/],
    [{ projects: [{ name: 'a' }, { name: 'a' }], users: [] }, /two projects are named "a"/],
    [{ projects: [{ name: 'a', colour: 'red' }], users: [] }, /projects\[0\]: unknown key\(s\) "colour"/],
    [{ projects: [] }, /"users" must be a list/],
    [[], /must be an object/],
  ];
  for (const [doc, re] of bad)
    assert.throws(
      () => parseDirectory(doc),
      (e: Error) => e instanceof UsersFileError && re.test(e.message),
    );
  const dirPath = tmpDir('ks-users-').path;
  writeFileSync(join(dirPath, 'bad.json'), '{"projects": [');
  assert.throws(() => loadUsersFile(join(dirPath, 'bad.json')), /bad\.json: not valid JSON/);
  assert.throws(() => loadUsersFile(join(dirPath, 'missing.json')), /missing\.json: No such file or directory/);
});

test('password hashes: passlib scrypt and pbkdf2-sha512 verify here, and ours verify in passlib', async () => {
  const made = await python(
    'from passlib.hash import scrypt, pbkdf2_sha512\n' +
      'print(scrypt.using(rounds=12).hash("s3cret"))\nprint(pbkdf2_sha512.using(rounds=2000).hash("s3cret"))',
  );
  assert.equal(made.code, 0, made.stderr);
  const [scryptHash, pbkdf2Hash] = made.stdout.trim().split('\n');
  for (const hash of [scryptHash!, pbkdf2Hash!]) {
    assert.equal(await verifyPassword({ hash }, 's3cret'), true, hash);
    assert.equal(await verifyPassword({ hash }, 's3cret!'), false, hash);
  }
  const ours = await hashPassword('pässword');
  const checked = await python(
    `from passlib.hash import scrypt\nprint(scrypt.verify("pässword", ${JSON.stringify(ours)}), scrypt.verify("password", ${JSON.stringify(ours)}))`,
  );
  assert.equal(checked.stdout.trim(), 'True False', checked.stderr);
  assert.equal(await verifyPassword({ plain: 'a' }, 'a'), true);
  assert.equal(await verifyPassword({ plain: 'a' }, 'b'), false);
});

test('tokens: unguessable, refused once expired or revoked, a rescoped one never outlives its parent', () => {
  let now = Date.UTC(2026, 0, 1, 12, 0, 0, 500);
  const store = new TokenStore({ lifetimeMs: 60_000, now: () => now });
  const scope = { project: { id: 'p', name: 'p' }, roles: ['member', 'reader'] };
  const t = store.issue({ userId: 'u', userName: 'u', scope, methods: ['password'] });
  assert.match(t.id, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(t.issuedAt % 1000, 0);
  assert.equal(t.expiresAt - t.issuedAt, 60_000);
  assert.equal(store.lookup(t.id), t);
  assert.equal(store.lookup(t.id.slice(0, -1) + (t.id.endsWith('A') ? 'B' : 'A')), undefined);
  assert.equal(store.lookup(''), undefined);
  now += 30_000;
  const child = store.issue({
    userId: 'u',
    userName: 'u',
    scope,
    methods: ['token'],
    expiresAt: t.expiresAt,
    parentAuditId: t.auditIds[0]!,
  });
  assert.equal(child.expiresAt, t.expiresAt);
  assert.deepEqual(child.auditIds.slice(1), t.auditIds);
  now = t.expiresAt - 1;
  assert.ok(store.lookup(t.id));
  now = t.expiresAt;
  assert.equal(store.lookup(t.id), undefined);
  assert.equal(store.lookup(child.id), undefined);
  const u = store.issue({ userId: 'u', userName: 'u', scope: null, methods: ['password'] });
  assert.equal(store.revoke(u.id), true);
  assert.equal(store.lookup(u.id), undefined);
  assert.equal(store.revoke(u.id), false);
  assert.equal(store.size, 0);
});

test('openstack token issue / revoke with password auth; the token opens /v2.0 until revoked', async () => {
  const { url, auth } = await serve();
  const issued = await openstack(passwordAuthEnv(`${url}/v3`, 'alice', 'alicepw', 'demo'), ['token', 'issue', '-f', 'json']);
  assert.equal(issued.code, 0, issued.stderr);
  const tok = JSON.parse(issued.stdout) as { id: string; project_id: string; user_id: string; expires: string };
  assert.equal(tok.project_id, DEMO_ID);
  assert.equal(tok.user_id, derivedId('user', 'alice'));
  const left = Date.parse(tok.expires.replace(/\+0000$/, 'Z')) - Date.now();
  assert.ok(left > 3500_000 && left <= 3600_000, `expires in ${left} ms`);

  const who = await whoami(url, tok.id);
  assert.equal(who.status, 200);
  assert.deepEqual(who.body, { projectId: DEMO_ID, userId: derivedId('user', 'alice'), roles: ['member', 'reader'], isAdmin: false });

  const admin = await openstack(passwordAuthEnv(`${url}/v3`, 'admin', 'adminpw', 'admin'), ['token', 'issue', '-f', 'value', '-c', 'id']);
  assert.equal(admin.code, 0, admin.stderr);
  const adminWho = await whoami(url, admin.stdout.trim());
  assert.deepEqual(adminWho.body, {
    projectId: derivedId('project', 'admin'),
    userId: derivedId('user', 'admin'),
    roles: ['admin', 'member', 'reader'],
    isAdmin: true,
  });

  // Revoking needs the token's owner (Keystone's default identity:revoke_token policy).
  const revoked = await openstack(passwordAuthEnv(`${url}/v3`, 'alice', 'alicepw', 'demo'), ['token', 'revoke', tok.id]);
  assert.equal(revoked.code, 0, revoked.stderr);
  const after = await whoami(url, tok.id);
  assert.equal(after.status, 401);
  assert.equal(auth.tokens.lookup(tok.id), undefined);
});

test("refused credentials get Keystone's 401, and the CLI prints its message", async () => {
  const { url } = await serve();
  const cases: [string, string, string][] = [
    ['alice', 'wrong', 'demo'], // wrong password
    ['nobody', 'x', 'demo'], // unknown user
    ['alice', 'alicepw', 'admin'], // no role on the project
    ['alice', 'alicepw', 'nosuch'], // unknown project
    ['off', 'offpw', 'demo'], // disabled
  ];
  for (const [user, pw, project] of cases) {
    const r = await openstack(passwordAuthEnv(`${url}/v3`, user, pw, project), ['token', 'issue']);
    assert.equal(r.code, 1, `${user}/${project}`);
    assert.match(r.stderr, /The request you have made requires authentication\. \(HTTP 401\)/);
  }
  const res = await fetch(`${url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: { identity: { methods: ['password'], password: { user: { name: 'alice', domain: { name: 'Default' }, password: 'bad' } } } },
    }),
  });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), `Keystone uri="${url}/v3"`);
  assert.deepEqual(await res.json(), {
    error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' },
  });
});

test('the identity API: version document, scoping forms, validation, malformed bodies', async () => {
  const { url } = await serve();
  const v3 = await (await fetch(`${url}/v3`)).json();
  assert.deepEqual(v3, {
    version: {
      id: 'v3.14',
      status: 'stable',
      updated: '2020-04-07T00:00:00Z',
      links: [{ rel: 'self', href: `${url}/v3/` }],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
    },
  });
  const post = (body: unknown, type = 'application/json') =>
    fetch(`${url}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': type },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const pw = (user: Record<string, unknown>) => ({ methods: ['password'], password: { user } });

  // User by id, project by id; the catalog holds this server as the network and identity endpoints.
  const r1 = await post({
    auth: { identity: pw({ id: derivedId('user', 'admin'), password: 'adminpw' }), scope: { project: { id: DEMO_ID } } },
  });
  assert.equal(r1.status, 201);
  const subject = r1.headers.get('x-subject-token')!;
  const body = (await r1.json()) as {
    token: {
      project: { id: string };
      roles: { name: string }[];
      catalog: { type: string; endpoints: { interface: string; url: string }[] }[];
    };
  };
  assert.equal(body.token.project.id, DEMO_ID);
  assert.deepEqual(
    body.token.roles.map((r) => r.name),
    ['admin', 'member', 'reader'],
  );
  const urlOf = (type: string) => body.token.catalog.find((s) => s.type === type)?.endpoints.find((e) => e.interface === 'public')?.url;
  assert.equal(urlOf('network'), url);
  assert.equal(urlOf('identity'), `${url}/v3`);

  // No scope: the default project (alice) or unscoped (rita); "unscoped" forces it.
  const alice = await post({ auth: { identity: pw({ name: 'alice', domain: { id: 'default' }, password: 'alicepw' }) } });
  assert.equal(((await alice.json()) as { token: { project?: { id: string } } }).token.project?.id, DEMO_ID);
  const rita = await post({ auth: { identity: pw({ name: 'rita', domain: { name: 'Default' }, password: 'ritapw' }) } });
  assert.equal(rita.status, 201);
  const ritaBody = (await rita.json()) as { token: Record<string, unknown> };
  assert.equal(ritaBody.token['project'], undefined);
  assert.equal(ritaBody.token['catalog'], undefined);
  // An unscoped token is an identity, not a project member: Neutron gets 401.
  assert.equal((await whoami(url, rita.headers.get('x-subject-token')!)).status, 401);

  // Rescoping an unscoped token with the token method.
  const rescoped = await post({
    auth: {
      identity: { methods: ['token'], token: { id: rita.headers.get('x-subject-token') } },
      scope: { project: { name: 'demo', domain: { name: 'Default' } } },
    },
  });
  assert.equal(rescoped.status, 201);
  assert.deepEqual(
    ((await rescoped.json()) as { token: { roles: { name: string }[] } }).token.roles.map((r) => r.name),
    ['reader'],
  );

  // Validation: own token 200, a forged subject 404, no caller token 401.
  const validate = (auth: string | undefined, subj: string) =>
    fetch(`${url}/v3/auth/tokens`, { headers: { ...(auth === undefined ? {} : { 'x-auth-token': auth }), 'x-subject-token': subj } });
  const ok = await validate(subject, subject);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('x-subject-token'), subject);
  const forged = await validate(subject, 'forged');
  assert.equal(forged.status, 404);
  assert.deepEqual(await forged.json(), { error: { code: 404, message: 'Could not find token: forged.', title: 'Not Found' } });
  assert.equal((await validate(undefined, subject)).status, 401);

  const bad: [unknown, string | undefined, number, string][] = [
    ['{"auth":', undefined, 400, 'Expecting to find valid JSON in request body.'],
    ['x', 'text/plain', 400, 'Expecting to find application/json in Content-Type header.'],
    [{ x: 1 }, undefined, 400, 'Expecting to find auth in request body.'],
    [{ auth: { identity: { methods: ['password'] } } }, undefined, 400, 'Expecting to find password in identity.'],
    [{ auth: { identity: pw({ name: 'alice', password: 'alicepw' }) } }, undefined, 400, 'Expecting to find domain in user.'],
    [
      { auth: { identity: pw({ name: 'alice', domain: { name: 'Default' }, password: 'alicepw' }), scope: { project: { name: 'demo' } } } },
      undefined,
      400,
      'Expecting to find domain in project.',
    ],
    [
      { auth: { identity: pw({ name: 'alice', domain: { name: 'Other' }, password: 'alicepw' }) } },
      undefined,
      401,
      'The request you have made requires authentication.',
    ],
    [
      { auth: { identity: pw({ name: 'alice', domain: { name: 'Default' }, password: 'alicepw' }), scope: { domain: { id: 'default' } } } },
      undefined,
      401,
      'The request you have made requires authentication.',
    ],
  ];
  for (const [b, type, status, message] of bad) {
    const res = await post(b, type);
    assert.equal(res.status, status, JSON.stringify(b));
    const err = ((await res.json()) as { error: { code: number; message: string } }).error;
    assert.equal(err.code, status);
    assert.ok(err.message.startsWith(message), err.message);
  }
  assert.equal((await post('{"auth":"' + 'x'.repeat(200_000) + '"}')).status, 413);
  // The server goes on serving.
  assert.equal((await fetch(`${url}/v3`)).status, 200);
});

test("the /v2.0 guard: keystonemiddleware's 401 for no token, a forged one and an expired one", async () => {
  let now = Date.now();
  const { url } = await serve({ tokenExpirationSeconds: 60, now: () => now });
  const res = await fetch(`${url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'alice', domain: { name: 'Default' }, password: 'alicepw' } } },
      },
    }),
  });
  const token = res.headers.get('x-subject-token')!;
  assert.equal((await whoami(url, token)).status, 200);
  const KSM_BODY = '{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}';
  for (const t of [undefined, '', 'forged', token.slice(1)]) {
    const r = await whoami(url, t);
    assert.equal(r.status, 401);
    assert.equal(r.text, KSM_BODY);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=UTF-8');
    assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${url}/v3"`);
  }
  now += 60_000;
  assert.equal((await whoami(url, token)).text, KSM_BODY);
  // `GET /` (version discovery) and the identity API stay open.
  assert.equal((await fetch(`${url}/`)).status, 200);
  assert.equal((await fetch(`${url}/v3`)).status, 200);
});

test('seed 004 underlay: python-neutronclient with auth_strategy keystone and OS_TENANT_ID', async () => {
  const { url } = await serve();
  const env = { OS_USERNAME: 'alice', OS_PASSWORD: 'alicepw', OS_TENANT_ID: DEMO_ID, OS_AUTH_URL: `${url}/v2.0` };
  // As ovn-container builds its client in underlay mode.
  const code = [
    'import os',
    'from neutronclient.v2_0 import client',
    "c = client.Client(username=os.environ['OS_USERNAME'], password=os.environ['OS_PASSWORD'], tenant_id=os.environ['OS_TENANT_ID'], auth_url=os.environ['OS_AUTH_URL'], auth_strategy='keystone')",
    "print(c.get('/whoami')['projectId'])",
    'print(c.httpclient.endpoint_url)',
  ].join('\n');
  const r = await python(code, env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [DEMO_ID, url]);
  const wrong = await python(code, { ...env, OS_PASSWORD: 'nope' });
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /Unauthorized: .*The request you have made requires authentication/);
  const noRole = await python(code, { ...env, OS_TENANT_ID: derivedId('project', 'other') });
  assert.notEqual(noRole.code, 0);
});
