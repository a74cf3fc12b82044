/**
 * Logging and its control as OVS has them, with the real ovsdb-server as the
 * oracle: the same vlog/set specs give the same vlog/list lines and the same
 * error text; rate-limited messages pass a burst, then count what they drop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RateLimit, rateLimitedLog } from '../../src/lib/rate-limit.js';
import { Vlog } from '../../src/lib/vlog.js';
import { run, runOk, tmpDir, waitFor } from '../helpers/proc.js';

/** A private real ovsdb-server with a control socket; returns it and a stop function. */
async function realServer(): Promise<{ ctl: string; stop: () => Promise<void> }> {
  const dir = tmpDir('ovnts-vlog');
  const db = join(dir.path, 'db');
  await runOk('ovsdb-tool', ['create', db, '/usr/share/openvswitch/vswitch.ovsschema']);
  const ctl = join(dir.path, 'ctl');
  const pidfile = join(dir.path, 'pid');
  await runOk('ovsdb-server', [
    db,
    `--unixctl=${ctl}`,
    `--pidfile=${pidfile}`,
    '--detach',
    '--no-chdir',
    `--log-file=${join(dir.path, 'log')}`,
    '--remote=punix:' + join(dir.path, 'sock'),
  ]);
  return {
    ctl,
    stop: async () => {
      process.kill(Number(readFileSync(pidfile, 'utf8').trim()), 'SIGTERM');
      await waitFor(async () => (await run('ovs-appctl', ['-t', ctl, 'version'])).code !== 0);
      dir.cleanup();
    },
  };
}

const lineOf = (list: string, module: string): string | undefined => list.split('\n').find((l) => l.startsWith(`${module} `));

test('vlog/set and vlog/list: the same specs give the same lines as ovsdb-server', async () => {
  const real = await realServer();
  const dir = tmpDir('ovnts-vlog-ours');
  try {
    const ours = new Vlog({ file: join(dir.path, 'log') });
    ours.module('jsonrpc');
    ours.module('reconnect');
    const list = await runOk('ovs-appctl', ['-t', real.ctl, 'vlog/list']);
    assert.equal(ours.list().split('\n').slice(0, 2).join('\n'), list.split('\n').slice(0, 2).join('\n'), 'header');
    for (const spec of ['jsonrpc:file:dbg', 'reconnect:warn', 'jsonrpc:syslog:off', 'file:emer', 'ANY:console:err']) {
      await runOk('ovs-appctl', ['-t', real.ctl, 'vlog/set', spec]);
      ours.set(spec);
      const realList = await runOk('ovs-appctl', ['-t', real.ctl, 'vlog/list']);
      for (const m of ['jsonrpc', 'reconnect']) assert.equal(lineOf(ours.list(), m), lineOf(realList, m), `${spec}: ${m}`);
    }
    for (const bad of ['nosuch:dbg', 'jsonrpc:bogus']) {
      const r = await run('ovs-appctl', ['-t', real.ctl, 'vlog/set', bad]);
      assert.equal(r.code, 2);
      assert.throws(
        () => ours.set(bad),
        (e: Error) => `${e.message}\n` === r.stderr.split('ovs-appctl:')[0],
      );
    }
    await ours.close();
  } finally {
    await real.stop();
    dir.cleanup();
  }
});

test('levels decide what reaches the file; writes are asynchronous and close() flushes them', async () => {
  const dir = tmpDir('ovnts-vlog-file');
  try {
    const file = join(dir.path, 'log');
    const v = new Vlog({ file });
    const log = v.module('northd');
    log('info line');
    log.dbg('debug line, off by default');
    v.set('northd:file:dbg');
    log.dbg('debug line, now on');
    log.warn('warning');
    await v.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split('|').slice(2).join('|')),
      ['northd|INFO|info line', 'northd|DBG|debug line, now on', 'northd|WARN|warning'],
    );
    assert.match(lines[0] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|00001\|/);
  } finally {
    dir.cleanup();
  }
});

test('the lines of one event-loop turn reach the file in one write, after the turn; flush() and an exit write them out', async () => {
  const dir = tmpDir('ovnts-vlog-turn');
  try {
    const file = join(dir.path, 'log');
    const v = new Vlog({ file });
    const log = v.module('controller');
    const writes: string[] = [];
    // The stream the Vlog opened is the only WriteStream writing `file`: count what is handed to it.
    const orig = WriteStream.prototype.write;
    WriteStream.prototype.write = function (this: WriteStream, chunk: unknown, ...rest: unknown[]) {
      if (this.path === file && String(chunk) !== '') writes.push(String(chunk));
      return (orig as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof orig;
    try {
      for (let i = 0; i < 4; i++) log(`line ${i}`);
      assert.equal(writes.length, 0, 'nothing written during the turn');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(writes.length, 1, 'one write for the turn');
      log('next turn');
      await v.flush();
      assert.equal(writes.length, 2);
    } finally {
      WriteStream.prototype.write = orig;
    }
    await v.close();
    const got = readFileSync(file, 'utf8').trim().split('\n');
    assert.deepEqual(
      got.map((l) => l.split('|').slice(2).join('|')),
      ['controller|INFO|line 0', 'controller|INFO|line 1', 'controller|INFO|line 2', 'controller|INFO|line 3', 'controller|INFO|next turn'],
    );
    // A process that exits in the turn it logged still leaves its lines in the file.
    const exitFile = join(dir.path, 'exit.log');
    const vlogJs = new URL('../../src/lib/vlog.js', import.meta.url).href;
    const script = `const { Vlog } = await import(${JSON.stringify(vlogJs)}); const v = new Vlog({ file: ${JSON.stringify(exitFile)} }); const l = v.module('m'); l('a'); l.warn('b'); process.exit(3);`;
    const r = await run(process.execPath, ['--input-type=module', '-e', script]);
    assert.equal(r.code, 3);
    assert.deepEqual(
      readFileSync(exitFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split('|').slice(2).join('|')),
      ['m|INFO|a', 'm|WARN|b'],
    );
  } finally {
    dir.cleanup();
  }
});

test('a rate limit passes its burst, then its rate, and reports what it dropped', () => {
  let now = 0;
  const rl = new RateLimit(6, 3, () => now);
  assert.deepEqual([rl.allow(), rl.allow(), rl.allow(), rl.allow(), rl.allow()], [true, true, true, false, false]);
  now += 9_000; // 6 a minute: one more after 10 s
  assert.equal(rl.allow(), false);
  now += 1_000;
  assert.equal(rl.allow(), true);
  assert.equal(rl.takeDroppedNotice(), 'Dropped 3 log messages in last 10 seconds (most recently, 1 seconds ago) due to excessive rate');
  assert.equal(rl.takeDroppedNotice(), undefined);
});

test('a rate-limited log writes its burst, drops the rest, and says so before the next line it lets through', () => {
  let now = 0;
  const lines: string[] = [];
  const log = rateLimitedLog(
    (m) => lines.push(m),
    600,
    2,
    () => now,
  );
  for (let i = 0; i < 5; i++) log(`line ${i}`);
  assert.deepEqual(lines, ['line 0', 'line 1']);
  now += 100; // 600 a minute: one token every 100 ms
  log('line 5');
  assert.deepEqual(lines.slice(2), [
    'Dropped 3 log messages in last 0 seconds (most recently, 0 seconds ago) due to excessive rate',
    'line 5',
  ]);
});
