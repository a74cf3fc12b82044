/**
 * Chaos on the seed lab, all ovnts (NB and SB `ovnts ovsdb-server`, `ovnts
 * northd`, `ovnts controller`): `kill -9` each daemon in turn and start it
 * again on the same files and sockets, and ovs-vswitchd likewise (its
 * userspace datapath goes with it; the namespaces' ports with it, so what is
 * checked there is the flow table). After each other event the namespaces ping
 * each other again by themselves (the time from the kill until vm5 reaches c52
 * and the router is measured and printed), every nbctl write acknowledged
 * during the chaos is in the NB at the end, and the flows installed on br-int
 * (normalised: no cookies or counters) are the ones installed before the chaos.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSeedLab, startOvnDatabases, ROUTER_IP, LAB_HOSTS, type ComponentContext } from '../helpers/ovn-lab.js';
import { startOvntsNorthd, type OvntsNorthdHandle } from '../helpers/ovnts-northd.js';
import { startOvntsController, type OvntsControllerHandle } from '../helpers/ovnts-controller.js';
import { dumpFlows, keyDiff, tableKeys } from '../helpers/flow-compare.js';
import { nsRun } from '../helpers/netns.js';
import { cleanupAll, run, spawnDaemon, tmpDir, waitFor, type Daemon } from '../helpers/proc.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { socketAccepts } from '../helpers/ovs.js';

after(cleanupAll);

/** Recovery must come by itself within this long after a restart. */
const RECOVERY_LIMIT_MS = 30_000;

test(
  'seed lab survives kill -9 of each ovnts daemon: pings resume, no acknowledged write lost, flows as before',
  { timeout: 600_000 },
  async () => {
    const tmp = tmpDir('ovnts-chaos');
    const dbs = await startOvnDatabases(tmp.path, 'ovnts');
    let northd: OvntsNorthdHandle | undefined;
    let northdCtx: ComponentContext | undefined;
    let controller: OvntsControllerHandle | undefined;
    let controllerCtx: ComponentContext | undefined;
    const lab = await runSeedLab({
      dbs,
      northd: async (ctx) => {
        northdCtx = ctx;
        northd = await startOvntsNorthd(ctx);
        return { stop: () => northd!.stop() };
      },
      controller: async (ctx) => {
        controllerCtx = ctx;
        controller = await startOvntsController(ctx);
        return { stop: () => controller!.stop() };
      },
    });
    const restarted: Daemon[] = [];
    try {
      for (const h of lab.hosts) assert.ok(h.address !== undefined, `${h.name} has a lease: ${h.dhcpError}`);
      const ns = (name: string): string => lab.hosts.find((h) => h.name === name)!.netns;
      const c52 = LAB_HOSTS.find((h) => h.name === 'c52')!.ip;
      const reachable = async (): Promise<boolean> => {
        const [a, b] = await Promise.all([
          nsRun(ns('vm5'), 'ping', ['-n', '-c', '1', '-W', '1', ROUTER_IP], { timeoutMs: 5000 }),
          nsRun(ns('vm5'), 'ping', ['-n', '-c', '1', '-W', '1', c52], { timeoutMs: 5000 }),
        ]);
        return a.code === 0 && b.code === 0;
      };
      await waitFor(reachable, { what: 'pings before the chaos', timeoutMs: 30_000 });
      const before = tableKeys(await dumpFlows(lab.ovs));

      /** kill -9 of an `ovnts ovsdb-server` by its pid file, then the same command line again. */
      const killDb = async (db: 'nb' | 'sb'): Promise<void> => {
        const pid = Number(readFileSync(join(tmp.path, `${db}.pid`), 'utf8').trim());
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
          .split('\0')
          .filter((a) => a !== '');
        process.kill(pid, 'SIGKILL');
        await waitFor(async () => (await run('kill', ['-0', String(pid)])).code !== 0, { what: `${db} server gone` });
        const sock = join(tmp.path, `${db}.sock`);
        restarted.push(
          await spawnDaemon(OVNTS, argv.slice(argv.indexOf('ovsdb-server')), {
            name: `ovnts ovsdb-server(${db})`,
            readyWhen: () => socketAccepts(sock),
          }),
        );
      };
      /** kill -9 of ovs-vswitchd (the datapath goes with it), then the same command line in the chassis' namespace. */
      const restartVswitchd = async (): Promise<void> => {
        const pid = lab.ovs.vswitchd.pid;
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
          .split('\0')
          .filter((a) => a !== '');
        await run('kill', ['-9', String(pid)]);
        await lab.ovs.vswitchd.exited;
        const ctl = lab.ovs.vswitchdCtl;
        restarted.push(
          await spawnDaemon('ip', ['netns', 'exec', lab.hvNetns, ...argv], {
            name: 'ovs-vswitchd',
            env: lab.ovs.env,
            readyWhen: async () => (await run('ovs-appctl', ['-t', ctl, 'version'], { timeoutMs: 5000 })).code === 0,
          }),
        );
      };
      const events: Array<[string, () => Promise<void>]> = [
        ['kill -9 NB ovsdb-server', () => killDb('nb')],
        ['kill -9 SB ovsdb-server', () => killDb('sb')],
        [
          'kill -9 northd',
          async () => {
            await northd!.kill();
            northd = await startOvntsNorthd(northdCtx!);
          },
        ],
        [
          'kill -9 controller',
          async () => {
            await controller!.kill();
            controller = await startOvntsController(controllerCtx!);
          },
        ],
      ];
      const acknowledged: string[] = [];
      const figures: string[] = [];
      // scripts/chaos.sh: CHAOS_ROUNDS rounds of the events, each after the first in an order drawn from CHAOS_SEED.
      const rounds = Number(process.env['CHAOS_ROUNDS'] ?? 1);
      let seed = Number(process.env['CHAOS_SEED'] ?? 1) >>> 0 || 1;
      const random = (n: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return (seed >>> 8) % n;
      };
      const schedule = Array.from({ length: rounds }, (_, r) => {
        const order = [...events];
        for (let k = order.length - 1; r > 0 && k > 0; k--) {
          const j = random(k + 1);
          [order[k], order[j]] = [order[j]!, order[k]!];
        }
        return order;
      }).flat();
      for (const [i, [what, event]] of schedule.entries()) {
        const t0 = Date.now();
        await event();
        // A write right after the restart, through ovnts nbctl: acknowledged means it must survive.
        const sw = `chaos${i}`;
        const w = await run(OVNTS, ['nbctl', `--db=${dbs.nbRemote}`, '--timeout=20', 'ls-add', sw]);
        if (w.code === 0) acknowledged.push(sw);
        await waitFor(reachable, { what: `pings after ${what}`, timeoutMs: RECOVERY_LIMIT_MS }).catch(async (e: unknown) => {
          const flows = await dumpFlows(lab.ovs).catch((de: unknown) => String(de));
          const ports = await lab.ovs.vsctl('show').catch((ve: unknown) => String(ve));
          throw new Error(
            `${(e as Error).message}; br-int has ${Array.isArray(flows) ? flows.length : flows} flows (${before.length} before)\n${ports}\n${lab.logs(15)}`,
          );
        });
        figures.push(`${what}: pings again ${Date.now() - t0} ms after the kill`);
      }
      // Last: ovs-vswitchd. Its netdev datapath's internal ports are the namespaces' interfaces, so they go with it
      // (for any controller); what must recover is the controller's flow table on the new switch.
      {
        const t0 = Date.now();
        await restartVswitchd();
        await waitFor(async () => keyDiff(before, tableKeys(await dumpFlows(lab.ovs).catch(() => []))) === '', {
          what: 'the flows reinstalled on the restarted ovs-vswitchd',
          timeoutMs: RECOVERY_LIMIT_MS,
        });
        figures.push(`kill -9 ovs-vswitchd: br-int's flows all back ${Date.now() - t0} ms after the kill`);
      }
      process.stdout.write(`# chaos recovery\n${figures.map((f) => `#   ${f}`).join('\n')}\n`);
      const switches = (await run(OVNTS, ['nbctl', `--db=${dbs.nbRemote}`, '--timeout=20', 'ls-list'])).stdout;
      for (const sw of acknowledged) assert.match(switches, new RegExp(`\\(${sw}\\)`), `acknowledged write ${sw} is in the NB`);
      assert.equal(acknowledged.length, schedule.length, 'every write after a restart was acknowledged');
      // The chassis binds nothing of the new switches: its flows converge to the ones before the chaos.
      let diff = '';
      await waitFor(
        async () => {
          diff = keyDiff(before, tableKeys(await dumpFlows(lab.ovs)), ['before', 'after']);
          return diff === '';
        },
        { what: 'the flows to converge', timeoutMs: 30_000 },
      ).catch(() => assert.fail(`flows differ after the chaos:\n${diff.slice(0, 4000)}`));
    } finally {
      await lab.stop();
      for (const d of restarted) await d.stop();
      await dbs.stop();
    }
  },
);
