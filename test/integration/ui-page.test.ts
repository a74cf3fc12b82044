/**
 * The page of `ovnts ui` in Debian's headless chromium (driven by
 * puppeteer-core), on the seed lab run on ovnts alone (ovnts ovsdb-server,
 * northd and controller): the DOM shows switch `dmz`, router `tenant1`, and
 * `dmz-c51`/`dmz-c52` inside `dmz-vm5` (in the DOM and on screen) with their
 * tags, bound on the lab's chassis and up; a port added with ovn-nbctl
 * appears within a second and goes up once an OVS interface with its
 * iface-id is plugged on the chassis; a trace from c51 to c52 (and a spoofed
 * one that is dropped) shows the same pipelines, tables and verdict as
 * `ovnts trace` prints for the same microflow. Prints the change → page
 * latency over 50 NB changes and leaves a screenshot in a temp dir it names.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { cleanupAll, runOk, spawnDaemon, tmpDir, type Daemon, type TmpDir } from '../helpers/proc.js';
import { runSeedLab, startOvnDatabases, type LabDatabases, type LabResult } from '../helpers/ovn-lab.js';
import { startOvntsNorthd } from '../helpers/ovnts-northd.js';
import { startOvntsController } from '../helpers/ovnts-controller.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';

const CHROMIUM = '/usr/bin/chromium';

interface Fixture {
  dbDir: TmpDir;
  dbs: LabDatabases;
  lab: LabResult;
  ui: Daemon;
  url: string;
  browser: Browser;
  page: Page;
  artifacts: string;
  /** Script errors the page raised (none expected). */
  pageErrors: string[];
}

let fx: Fixture | undefined;
const stops: Array<() => Promise<unknown>> = [];

before(async () => {
  const dbDir = tmpDir('ovnts-ui-dbs');
  stops.push(async () => dbDir.cleanup());
  const dbs = await startOvnDatabases(dbDir.path, 'ovnts');
  stops.push(() => dbs.stop());
  const lines: string[] = [];
  const lab = await runSeedLab({
    dbs,
    northd: (c) => startOvntsNorthd(c),
    controller: (c) => startOvntsController(c),
    log: (l) => lines.push(l),
    dhcpTimeoutS: 20,
  });
  stops.push(() => lab.stop());
  const pidfile = join(dbDir.path, 'ui.pid');
  const ui = await spawnDaemon(
    OVNTS,
    ['ui', '--listen=127.0.0.1:0', `--ovnnb-db=${dbs.nbRemote}`, `--ovnsb-db=${dbs.sbRemote}`, `--pidfile=${pidfile}`],
    { name: 'ovnts ui', readyWhen: async () => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '' },
  );
  stops.push(() => ui.stop());
  const port = /serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(ui.output())?.[1];
  assert.ok(port, `ovnts ui names its port: ${ui.output()}`);
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  stops.push(() => browser.close());
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.setViewport({ width: 1600, height: 1000 });
  const url = `http://127.0.0.1:${port}/`;
  await page.goto(url);
  // Artifacts stay after the run (the path is printed); OVNTS_TEST_ARTIFACTS names a place for them.
  const artifacts = mkdtempSync(join(process.env['OVNTS_TEST_ARTIFACTS'] ?? tmpdir(), 'ovnts-ui-page-'));
  fx = { dbDir, dbs, lab, ui, url, browser, page, artifacts, pageErrors };
});

after(async () => {
  for (const s of stops.reverse()) await s().catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
  await cleanupAll();
});

function need(): Fixture {
  assert.ok(fx, 'the fixture started');
  return fx;
}

/** Runs `js` (an expression) in the page: the tests compile without the DOM's types, the browser has them. */
function inPage<T>(page: Page, js: string): Promise<T> {
  return page.evaluate(js) as Promise<T>;
}

interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A port's drawing: its data attributes, its box on screen and the drawn elements it sits in. */
function portInfo(page: Page, name: string): Promise<{ attrs: Record<string, string>; box: Box; parents: string[] }> {
  return inPage(
    page,
    `(() => {
      const e = document.querySelector('[data-kind="port"][data-name=${JSON.stringify(name)}]');
      const attrs = {};
      for (const a of e.attributes) attrs[a.name] = a.value;
      const parents = [];
      for (let p = e.parentElement.closest('[data-kind]'); p; p = p.parentElement.closest('[data-kind]'))
        parents.push(p.getAttribute('data-kind') + ':' + p.getAttribute('data-name'));
      const r = e.querySelector('rect').getBoundingClientRect();
      return { attrs, box: { x: r.x, y: r.y, width: r.width, height: r.height }, parents };
    })()`,
  );
}

const inside = (a: Box, b: Box): boolean => a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;

test('the page shows the seed lab: dmz, tenant1, c51/c52 inside vm5 with their tags, bound and up', { timeout: 60_000 }, async (t) => {
  const { page, lab, artifacts } = need();
  await page.waitForSelector('[data-kind="port"][data-name="dmz-c52"][data-up="true"]', { timeout: 10_000 });
  const chassis = `${lab.id}-chassis`;
  assert.ok(await page.$('[data-kind="switch"][data-name="dmz"][data-subnets="172.16.255.128/26"]'), 'switch dmz with its subnet');
  assert.ok(await page.$('[data-kind="router"][data-name="tenant1"]'), 'router tenant1');
  assert.ok(await page.$('line.link[data-router="tenant1"][data-switch-port="dmz-tenant1"]'), 'the router link');
  const vm5 = await portInfo(page, 'dmz-vm5');
  assert.deepEqual(vm5.parents, ['switch:dmz']);
  assert.equal(vm5.attrs['data-chassis'], chassis);
  for (const [name, tag, mac, ip] of [
    ['dmz-c51', '51', '02:ac:10:ff:01:33', '172.16.255.133'],
    ['dmz-c52', '52', '02:ac:10:ff:01:34', '172.16.255.134'],
  ] as const) {
    const p = await portInfo(page, name);
    assert.deepEqual(p.parents, ['port:dmz-vm5', 'switch:dmz'], `${name} is drawn inside dmz-vm5`);
    assert.ok(inside(p.box, vm5.box), `${name}'s box ${JSON.stringify(p.box)} lies inside dmz-vm5's ${JSON.stringify(vm5.box)}`);
    assert.equal(p.attrs['data-tag'], tag);
    assert.equal(p.attrs['data-parent'], 'dmz-vm5');
    assert.equal(p.attrs['data-chassis'], chassis);
    assert.equal(p.attrs['data-up'], 'true');
    assert.equal(p.attrs['data-installed'], 'true');
    assert.equal(p.attrs['data-mac'], mac);
    assert.equal(p.attrs['data-ips'], ip);
    const badge = await inPage<string>(page, `document.querySelector('[data-name="${name}"] > .tag text').textContent`);
    assert.equal(badge, `vlan ${tag}`);
  }
  const bound = await inPage<string[]>(
    page,
    `Array.from(document.querySelectorAll('#chassis-list > li[data-chassis-name="${chassis}"] li'), (e) => e.textContent)`,
  );
  assert.deepEqual(bound, ['dmz-c51', 'dmz-c52', 'dmz-vm5']);
  const shot = join(artifacts, 'seed-lab.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.diagnostic(`screenshot: ${shot}`);
});

test('a port added with nbctl appears within a second and goes up when plugged on the chassis', { timeout: 60_000 }, async (t) => {
  const { page, lab } = need();
  const name = `dmz-ui${lab.id.slice(1, 5)}`;
  const iface = `u${lab.id.slice(1)}`;
  try {
    await lab.nbctl('lsp-add', 'dmz', name, '--', 'lsp-set-addresses', name, '02:ac:10:ff:01:40 172.16.255.140');
    const t0 = Date.now();
    await page.waitForSelector(`[data-kind="port"][data-name="${name}"]`, { timeout: 1000 });
    t.diagnostic(`nbctl lsp-add → on the page: ${Date.now() - t0} ms`);
    const before = await portInfo(page, name);
    assert.equal(before.attrs['data-up'], 'false');
    assert.equal(before.attrs['data-chassis'], undefined);
    assert.equal(before.attrs['data-state'], 'down');
    await lab.ovs.vsctl('add-port', 'br-int', iface, '--', 'set', 'Interface', iface, 'type=internal', `external_ids:iface-id=${name}`);
    await page.waitForSelector(`[data-kind="port"][data-name="${name}"][data-up="true"][data-installed="true"]`, { timeout: 15_000 });
    const afterPlug = await portInfo(page, name);
    assert.equal(afterPlug.attrs['data-chassis'], `${lab.id}-chassis`);
    assert.equal(afterPlug.attrs['data-state'], 'up');
    await page.waitForSelector(`#chassis-list li[data-port="${name}"]`, { timeout: 1000 });
  } finally {
    await lab.ovs.vsctl('--if-exists', 'del-port', 'br-int', iface);
    await lab.nbctl('--if-exists', 'lsp-del', name);
  }
  await page.waitForSelector(`[data-kind="port"][data-name="${name}"]`, { hidden: true, timeout: 2000 });
});

test('change → page latency over 50 NB changes (diagnostic)', { timeout: 120_000 }, async (t) => {
  const { page, dbs, url } = need();
  // The server's side of the latency: the same updates read off the event stream here.
  const abort = new AbortController();
  const stream = await fetch(`${url}events`, { signal: abort.signal });
  assert.equal(stream.headers.get('content-type'), 'text/event-stream');
  const seen = new Map<string, number>();
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream.body as AsyncIterable<Uint8Array>) {
      const now = performance.now();
      for (const m of decoder.decode(chunk, { stream: true }).matchAll(/"name":"(dmz-lat\d+)"/g))
        if (!seen.has(m[1]!)) seen.set(m[1]!, now);
    }
  })().catch(() => undefined);
  const client = new OvsdbClient({
    remotes: dbs.nbRemote,
    database: 'OVN_Northbound',
    tables: { Logical_Switch: ['name', 'ports'], Logical_Switch_Port: ['name'] },
  });
  await client.start();
  try {
    const dmz = [...client.table('Logical_Switch').values()].find((r) => r.scalar('name') === 'dmz');
    assert.ok(dmz);
    const ms: number[] = [];
    const names: string[] = [];
    const layoutMs: number[] = [];
    const sseMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const name = `dmz-lat${i}`;
      names.push(name);
      const txn = client.txn();
      const ref = txn.insert('Logical_Switch_Port', { name, addresses: `02:ac:10:ff:02:${(i + 16).toString(16)}` });
      txn.mutate('Logical_Switch', dmz.uuid, [['ports', 'insert', ['set', [ref]]]]);
      const t0 = performance.now();
      await txn.commit();
      await page.waitForSelector(`[data-kind="port"][data-name="${name}"]`, { timeout: 5000 });
      ms.push(performance.now() - t0);
      const at = seen.get(name);
      if (at !== undefined) sseMs.push(at - t0);
      layoutMs.push(Number(await inPage<string>(page, `document.getElementById('status').dataset.layoutMs`)));
    }
    const pct = (xs: number[], p: number): number => {
      const sorted = [...xs].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
    };
    t.diagnostic(`change → page (commit to DOM, ${ms.length} changes): p50 ${pct(ms, 50).toFixed(0)} ms, p99 ${pct(ms, 99).toFixed(0)} ms`);
    t.diagnostic(
      `commit → event stream read by the test: p50 ${pct(sseMs, 50).toFixed(0)} ms, p99 ${pct(sseMs, 99).toFixed(0)} ms (${sseMs.length} seen)`,
    );
    t.diagnostic(`of which layout and drawing in the page: p50 ${pct(layoutMs, 50).toFixed(0)} ms, p99 ${pct(layoutMs, 99).toFixed(0)} ms`);
    // All 50 go in one change; the page follows with one update.
    const current = client.row('Logical_Switch', dmz.uuid)!;
    const uuids = new Set(
      [...client.table('Logical_Switch_Port').values()].filter((r) => names.includes(r.scalar('name') as string)).map((r) => r.uuid),
    );
    assert.equal(current.set('ports').length >= 50, true);
    await client
      .txn()
      .mutate('Logical_Switch', dmz.uuid, [['ports', 'delete', ['set', [...uuids].map((u) => ['uuid', u])]]])
      .commit();
  } finally {
    await client.stop();
    abort.abort();
    await reading;
  }
  await page.waitForFunction(`document.querySelectorAll('[data-name^="dmz-lat"]').length === 0`, { timeout: 2000 });
});

/**
 * What `ovnts trace` prints, read as the page draws it: pipeline titles and table lines
 * (--detailed), and the ports the packet is output to (--minimal's `output("P");`).
 */
async function cliTrace(sb: string, microflow: string): Promise<{ flow: string; titles: string[]; tables: string[]; outports: string[] }> {
  const detailed = await runOk(OVNTS, ['trace', `--db=${sb}`, microflow]);
  const minimal = await runOk(OVNTS, ['trace', '--minimal', `--db=${sb}`, microflow]);
  const lines = detailed.split('\n');
  const titles = lines.filter((l, i) => /^\s*-+$/.test(lines[i + 1] ?? '') && l.trim() !== '').map((l) => l.trim());
  const tables = lines.filter((l) => /^\s*\d+\. /.test(l)).map((l) => l.trim());
  const outports = [...minimal.matchAll(/^\s*output\("([^"]*)"\);$/gm)].map((m) => m[1]!);
  return { flow: lines[0] ?? '', titles, tables, outports };
}

async function pageTrace(
  page: Page,
): Promise<{ microflow: string; flow: string; titles: string[]; tables: string[]; verdict: string; outports: string }> {
  await page.waitForSelector('#trace-result[data-state="done"]', { timeout: 10_000 });
  return inPage(
    page,
    `(() => {
      const r = document.getElementById('trace-result');
      const v = r.querySelector('.trace-verdict');
      const texts = (sel) => Array.from(r.querySelectorAll(sel), (e) => e.textContent);
      return {
        microflow: r.dataset.microflow ?? '',
        flow: r.querySelector('.trace-flow')?.textContent ?? '',
        titles: texts('.trace-section > h3'),
        tables: texts('.trace-step code.flow-text'),
        verdict: v?.getAttribute('data-verdict') ?? '',
        outports: v?.getAttribute('data-outports') ?? '',
      };
    })()`,
  );
}

test('a trace from c51 to c52 in the page shows the stages and verdict `ovnts trace` prints', { timeout: 60_000 }, async (t) => {
  const { page, dbs, artifacts } = need();
  await page.select('#trace-src', 'dmz-c51');
  await page.select('#trace-dst', 'dmz-c52');
  await page.click('#trace-run');
  const shown = await pageTrace(page);
  assert.match(
    shown.microflow,
    /^inport == "dmz-c51" && eth\.src == 02:ac:10:ff:01:33 && eth\.dst == 02:ac:10:ff:01:34 && ip4\.src == 172\.16\.255\.133/,
  );
  const cli = await cliTrace(dbs.sbRemote, shown.microflow);
  assert.equal(shown.flow, cli.flow);
  assert.deepEqual(shown.titles, cli.titles);
  assert.deepEqual(shown.tables, cli.tables);
  assert.ok(cli.tables.length > 4, `a real walk: ${cli.tables.join('\n')}`);
  assert.equal(shown.verdict, 'output');
  assert.deepEqual(shown.outports.split(' '), cli.outports);
  assert.deepEqual(cli.outports, ['dmz-c52']);
  // The path is marked on the drawing: the switch and both ports.
  const marked = (
    await inPage<string[]>(page, `Array.from(document.querySelectorAll('#topology .on-path'), (e) => e.getAttribute('data-name'))`)
  ).sort();
  assert.deepEqual(marked, ['dmz', 'dmz-c51', 'dmz-c52']);
  const shot = join(artifacts, 'trace-c51-c52.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.diagnostic(`screenshot: ${shot}`);

  // A typed microflow: c51 sending with a MAC that is not its own is dropped by port security, as ovnts trace says.
  const spoofed = 'inport == "dmz-c51" && eth.src == 02:ac:10:ff:01:99 && eth.dst == 02:ac:10:ff:01:34';
  await inPage(page, `document.getElementById('trace-microflow').value = ${JSON.stringify(spoofed)}`);
  await inPage(page, `document.getElementById('trace-result').dataset.state = 'idle'`);
  await page.click('#trace-run');
  const dropped = await pageTrace(page);
  assert.equal(dropped.microflow, spoofed);
  const cliDrop = await cliTrace(dbs.sbRemote, spoofed);
  assert.deepEqual(dropped.tables, cliDrop.tables);
  assert.deepEqual(dropped.titles, cliDrop.titles);
  assert.deepEqual(cliDrop.outports, []);
  assert.equal(dropped.verdict, 'drop');
  const reason = await inPage<string>(page, `document.querySelector('.trace-verdict').textContent`);
  assert.match(reason, /^dropped: .*ls_in_(check_port_sec|apply_port_sec)/);
  assert.deepEqual(need().pageErrors, [], 'no script errors in the page');
});
