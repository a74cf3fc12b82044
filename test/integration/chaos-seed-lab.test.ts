/**
 * Chaos on the seed lab, all ovnts (NB and SB `ovnts ovsdb-server`, `ovnts
 * northd`, `ovnts controller`): `kill -9` each daemon in turn and start it
 * again on the same files and sockets; cut the database connections (NB↔northd,
 * SB↔northd, SB↔controller each run through a proxy that drops them and
 * refuses new ones for CUT_MS, then passes them again); cut the controller's
 * links to its Open vSwitch the same way — its OVSDB connection to the local
 * ovsdb-server, its OpenFlow connections to br-int.mgmt (with br-int's flows
 * deleted behind its back meanwhile, so only a full resync after the
 * reconnect, as ovn-controller's ofctrl does, brings them back), and both at
 * once — after each of which br-int's flow table must be the one before the
 * event; and ovs-vswitchd is
 * killed last (its userspace datapath goes with it; the namespaces' ports with
 * it, so what is checked there is the flow table). After each other event the
 * namespaces ping each other again by themselves and an `nbctl --wait=hv sync`
 * gets through NB, northd, SB and the controller (the times from the event are
 * measured and printed), every nbctl write acknowledged during the chaos is in
 * the NB at the end, and the flows installed on br-int (normalised: no cookies
 * or counters) are the ones installed before the chaos.
 *
 * Then the end state is compared with what a fresh start computes: a fresh
 * controller (the flows deleted, a new process on the same SB and OVS)
 * installs the same flows; a fresh northd on a copy of the NB, into an empty
 * SB, writes the same SB rows (test/helpers/sb-compare.ts says which columns
 * are left out and why).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSeedLab, startOvnDatabases, type ComponentContext } from '../helpers/ovn-lab.js';
import { flowsBack, labReachable } from '../helpers/chaos.js';
import { startOvntsNorthd, type OvntsNorthdHandle } from '../helpers/ovnts-northd.js';
import { startOvntsController, type OvntsControllerHandle } from '../helpers/ovnts-controller.js';
import { dumpFlows, keyDiff, tableKeys } from '../helpers/flow-compare.js';
import { cleanupAll, run, runOk, spawnDaemon, tmpDir, waitFor, type Daemon } from '../helpers/proc.js';
import { startCutProxy, startOvsLinkProxies, type OvsLinkProxies } from '../helpers/cut-proxy.js';
import { northdOutput, northdOutputDiff } from '../helpers/sb-compare.js';
import { OVNTS, SB_SCHEMA } from '../helpers/ovsdb-servers.js';
import { socketAccepts } from '../helpers/ovs.js';

after(cleanupAll);

/** Recovery must come by itself within this long after a restart. */
const RECOVERY_LIMIT_MS = 30_000;
/** How long a cut connection stays refused (the clients' reconnect back-off runs through several tries). */
const CUT_MS = Number(process.env['CHAOS_CUT_MS'] ?? 2000);

test(
  'seed lab survives kill -9 of each ovnts daemon, cut database connections and cut controller↔OVS links: pings and --wait=hv resume, no acknowledged write lost, flows as before; SB and flows as a fresh start computes',
  // scripts/chaos.sh's longer runs: ten minutes, and two more per round.
  { timeout: 600_000 + Number(process.env['CHAOS_ROUNDS'] ?? 1) * 120_000 },
  async () => {
    const tmp = tmpDir('ovnts-chaos');
    const dbs = await startOvnDatabases(tmp.path, 'ovnts');
    // Each daemon's database connection through its own proxy, so each can be cut alone.
    const sock = (r: string): string => r.slice('unix:'.length);
    const [nbNorthd, sbNorthd, sbController] = await Promise.all([
      startCutProxy(join(tmp.path, 'nb-northd.sock'), sock(dbs.nbRemote)),
      startCutProxy(join(tmp.path, 'sb-northd.sock'), sock(dbs.sbRemote)),
      startCutProxy(join(tmp.path, 'sb-controller.sock'), sock(dbs.sbRemote)),
    ]);
    let northd: OvntsNorthdHandle | undefined;
    let northdCtx: ComponentContext | undefined;
    let controller: OvntsControllerHandle | undefined;
    let controllerCtx: ComponentContext | undefined;
    let ovsLinks: OvsLinkProxies | undefined;
    const lab = await runSeedLab({
      dbs,
      northd: async (ctx) => {
        northdCtx = { ...ctx, dbs: { ...ctx.dbs, nbRemote: nbNorthd.remote, sbRemote: sbNorthd.remote } };
        northd = await startOvntsNorthd(northdCtx);
        return { stop: () => northd!.stop() };
      },
      controller: async (ctx) => {
        // Its OVSDB and OpenFlow links to the chassis' OVS through proxies of their own, each cut alone below.
        ovsLinks = await startOvsLinkProxies(ctx.ovs!, tmp.path);
        controllerCtx = { ...ctx, ovs: ovsLinks.ovs };
        controller = await startOvntsController(controllerCtx);
        return { stop: () => controller!.stop() };
      },
    });
    const restarted: Daemon[] = [];
    try {
      for (const h of lab.hosts) assert.ok(h.address !== undefined, `${h.name} has a lease: ${h.dhcpError}`);
      // The controller's SB through its proxy from now on (it follows ovn-remote as ovn-controller does).
      await lab.ovs.vsctl('set', 'Open_vSwitch', '.', `external_ids:ovn-remote=${sbController.remote}`);
      const reachable = (): Promise<boolean> => labReachable(lab);
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
      const links = ovsLinks!;
      /** The OpenFlow link cut, and br-int's flows deleted on the switch while the controller cannot see it. */
      const cutOpenFlow = async (): Promise<void> => {
        const cut = links.openflow.cut(CUT_MS);
        await lab.ovs.ofctl('del-flows', 'br-int');
        await cut;
      };
      const ovsCuts = {
        ovsdb: `cut OVS DB↔controller for ${CUT_MS} ms`,
        openflow: `cut br-int.mgmt↔controller for ${CUT_MS} ms (br-int's flows deleted meanwhile)`,
        both: `cut OVS DB and br-int.mgmt↔controller for ${CUT_MS} ms (flows deleted meanwhile)`,
      };
      const events: Array<[string, () => Promise<void>]> = [
        [ovsCuts.ovsdb, () => links.ovsdb.cut(CUT_MS)],
        [ovsCuts.openflow, cutOpenFlow],
        [ovsCuts.both, async () => void (await Promise.all([links.ovsdb.cut(CUT_MS), cutOpenFlow()]))],
        [`cut NB↔northd for ${CUT_MS} ms`, () => nbNorthd.cut(CUT_MS)],
        [`cut SB↔northd for ${CUT_MS} ms`, () => sbNorthd.cut(CUT_MS)],
        [`cut SB↔controller for ${CUT_MS} ms`, () => sbController.cut(CUT_MS)],
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
        const ended = Date.now() - t0;
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
        const pinged = Date.now() - t0;
        // The whole chain answers again: NB → northd → SB → controller → Chassis_Private.nb_cfg → NB.
        const synced = await run(OVNTS, ['nbctl', `--db=${dbs.nbRemote}`, '--wait=hv', `--timeout=${RECOVERY_LIMIT_MS / 1000}`, 'sync']);
        assert.equal(synced.code, 0, `nbctl --wait=hv sync after ${what}: ${synced.stderr}\n${lab.logs(15)}`);
        let flowsAgain = '';
        if (Object.values(ovsCuts).includes(what)) {
          // The controller's own links were cut: br-int's table must come back to the one before, whatever happened to it.
          await flowsBack(lab, before, what, RECOVERY_LIMIT_MS);
          flowsAgain = `, br-int's flows as before at ${Date.now() - t0} ms`;
        }
        figures.push(
          `${what}: pings again ${pinged} ms after the event began (the event itself ${ended} ms), --wait=hv sync through at ${Date.now() - t0} ms${flowsAgain}`,
        );
        // As it happens too, for a long run cut short.
        process.stdout.write(`# event ${i + 1}/${schedule.length}: ${figures[figures.length - 1]!}\n`);
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
      process.stdout.write(
        `# connections dropped by the cuts: NB↔northd ${nbNorthd.dropped}, SB↔northd ${sbNorthd.dropped}, SB↔controller ${sbController.dropped}, OVS DB↔controller ${links.ovsdb.dropped}, br-int.mgmt↔controller ${links.openflow.dropped}\n`,
      );
      for (const [name, p, cuts] of [
        ['NB↔northd', nbNorthd, rounds],
        ['SB↔northd', sbNorthd, rounds],
        ['SB↔controller', sbController, rounds],
        // Cut alone and with the other, each round.
        ['OVS DB↔controller', links.ovsdb, 2 * rounds],
        ['br-int.mgmt↔controller', links.openflow, 2 * rounds],
      ] as const)
        assert.ok(p.dropped >= cuts, `every cut of ${name} dropped a live connection (${p.dropped} in ${cuts} cuts)`);

      // A fresh controller on the same SB and OVS, from an empty flow table, installs what the chaos one has.
      const chaosFlows = tableKeys(await dumpFlows(lab.ovs));
      await controller!.stop();
      await lab.ovs.ofctl('del-flows', 'br-int');
      controller = await startOvntsController(controllerCtx!);
      await waitFor(
        async () => {
          diff = keyDiff(chaosFlows, tableKeys(await dumpFlows(lab.ovs)), ['chaos controller', 'fresh controller']);
          return diff === '';
        },
        { what: "a fresh controller's flows", timeoutMs: RECOVERY_LIMIT_MS },
      ).catch(() => assert.fail(`a fresh controller installs other flows:\n${diff.slice(0, 4000)}`));

      // A fresh northd on a copy of the NB, into an empty SB, writes the SB rows the chaos northd left.
      await runOk(OVNTS, ['nbctl', `--db=${dbs.nbRemote}`, '--wait=sb', '--timeout=30', 'sync']);
      const fresh = join(tmp.path, 'fresh');
      await runOk('mkdir', ['-p', fresh]);
      const backup = await runOk('ovsdb-client', ['backup', dbs.nbRemote, 'OVN_Northbound']);
      writeFileSync(join(fresh, 'nb.db'), backup);
      await runOk(OVNTS, ['ovsdb-tool', 'create', join(fresh, 'sb.db'), SB_SCHEMA]);
      for (const db of ['nb', 'sb']) {
        const path = join(fresh, `${db}.sock`);
        restarted.push(
          await spawnDaemon(
            OVNTS,
            ['ovsdb-server', join(fresh, `${db}.db`), `--remote=punix:${path}`, `--unixctl=${join(fresh, `${db}.ctl`)}`],
            {
              name: `fresh ovnts ovsdb-server(${db})`,
              readyWhen: () => socketAccepts(path),
            },
          ),
        );
      }
      restarted.push(
        await spawnDaemon(
          OVNTS,
          [
            'northd',
            `--ovnnb-db=unix:${join(fresh, 'nb.sock')}`,
            `--ovnsb-db=unix:${join(fresh, 'sb.sock')}`,
            `--unixctl=${join(fresh, 'northd.ctl')}`,
            `--pidfile=${join(fresh, 'northd.pid')}`,
          ],
          { name: 'fresh ovnts northd', readyWhen: async () => socketAccepts(join(fresh, 'northd.ctl')) },
        ),
      );
      await runOk(OVNTS, ['nbctl', `--db=unix:${join(fresh, 'nb.sock')}`, '--wait=sb', '--timeout=60', 'sync']);
      const [chaosSb, freshSb] = await Promise.all([northdOutput(sock(dbs.sbRemote)), northdOutput(join(fresh, 'sb.sock'))]);
      const sbDiff = northdOutputDiff(chaosSb, freshSb, ['chaos SB', 'fresh SB']);
      const rows = [...chaosSb.values()].reduce((n, r) => n + r.length, 0);
      process.stdout.write(
        `# SB compared with a fresh northd's: ${rows} rows in ${chaosSb.size} tables, ${sbDiff === '' ? 'equal' : 'different'}\n`,
      );
      assert.equal(sbDiff, '', `the SB after the chaos is not what a fresh northd computes:\n${sbDiff.slice(0, 4000)}`);
    } finally {
      await lab.stop();
      for (const d of restarted) await d.stop();
      await dbs.stop();
    }
  },
);
