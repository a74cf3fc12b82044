/**
 * One run of the seed lab on ovnts. By default on its own deployment:
 * `ovnts up` (NB and SB databases, northd, the controller) as a child process
 * on private run/db directories; with `nb`/`sb` on existing databases (some
 * northd serving them), where the lab starts only `ovnts controller` for its
 * chassis. The chassis is a private Open vSwitch in its own namespace; the
 * hosts vm5, c51 and c52 are namespaces of their own.
 *
 * Layout of a run (`<id>` is unique per run, `<dir>` = `<baseDir>/<id>`):
 *   `<dir>/lab.json`       the journal: everything to tear down (see journal.ts)
 *   `<dir>/ovs/`           the chassis' OVS (sockets, conf.db, logs)
 *   `<dir>/ovn/`           `ovnts up`'s sockets, database files and log (or the controller's)
 *   `<dir>/hosts/`         dhclient files
 *   namespace `<id>-hv`    ovs-vswitchd and the ovnts processes (the chassis)
 *   namespaces `<id>-vm5`, `<id>-c51`, `<id>-c52`
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nbctlAt, sbctlAt } from './ctl.js';
import { runOk, startDaemon, waitFor } from './exec.js';
import { Journal, type NorthboundCleaner } from './journal.js';
import { tailLogs } from './logs.js';
import { createNetns, deleteNetns, ping, startDhclient } from './netns.js';
import { startLabOvs } from './ovs.js';
import {
  configureChassis,
  plugHosts,
  programNorthbound,
  reportSteps,
  ROUTER_IP,
  runSteps,
  SUBNET,
  unprogramNorthbound,
  waitUntilWired,
  type HostSpec,
  type SeedHost,
} from './seed.js';

export interface LabOptions {
  /** Runs live in subdirectories of this directory (`ovnts lab --clean` looks there). */
  readonly baseDir: string;
  /** The command line that runs `ovnts` (node and bin/ovnts). */
  readonly ovnts: readonly string[];
  /** Existing databases (both or neither); default: start `ovnts up`. */
  readonly nbRemote?: string | undefined;
  readonly sbRemote?: string | undefined;
  /** More addresses every host pings. Default none. */
  readonly extraPings?: readonly string[];
  /** Seconds each dhclient may try. Default 30. */
  readonly dhcpTimeoutS?: number;
  /** Leave everything running for inspection (`ovnts lab --clean` removes it). Default false. */
  readonly keep?: boolean;
  /** Progress and result lines. */
  readonly print: (line: string) => void;
}

export interface LabRun {
  /** Builds the lab and runs the steps; resolves to the number of failed steps (a setup error rejects). */
  run(): Promise<number>;
  /** Tears down everything of this run (unless it was kept). Idempotent; safe while `run` is in flight. */
  stop(): Promise<void>;
}

/** Removes lab objects from a Northbound database the lab did not start. */
export const cleanNorthbound: NorthboundCleaner = (remote) => unprogramNorthbound(nbctlAt(remote));

export function createLab(opts: LabOptions): LabRun {
  if ((opts.nbRemote === undefined) !== (opts.sbRemote === undefined)) throw new Error('--nb and --sb go together');
  const id = `l${randomBytes(3).toString('hex')}`;
  const dir = join(opts.baseDir, id);
  mkdirSync(dir, { recursive: true });
  const journal = Journal.create(dir, id);
  const print = opts.print;
  // Stopping aborts the commands in flight (and every later one) before the teardown, so a step
  // still running when Ctrl-C came can neither outlive the lab nor recreate what was removed.
  const abort = new AbortController();
  const signal = abort.signal;
  let kept = false;
  /** Namespace creations in flight: the teardown waits for them (each removes its namespace if it lost the race). */
  const creating = new Set<Promise<void>>();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (!kept) abort.abort(new Error('the lab is being torn down'));
    stopping ??= kept
      ? Promise.resolve()
      : journal.teardown(cleanNorthbound).then(async (errors) => {
          await Promise.allSettled([...creating]);
          for (const e of errors) print(`lab ${id}: teardown: ${e}`);
        });
    return stopping;
  };
  /** Recorded first (a crash right after creating it leaves it in the journal), removed again if the teardown raced it. */
  const addNetns = (name: string): Promise<void> => {
    const op = (async (): Promise<void> => {
      await journal.add({ kind: 'netns', name }, cleanNorthbound);
      try {
        await createNetns(name, signal);
      } finally {
        if (journal.closed) await deleteNetns(name);
      }
    })();
    const tracked = op.catch(() => undefined).finally(() => creating.delete(tracked));
    creating.add(tracked);
    return op;
  };

  const run = async (): Promise<number> => {
    const t0 = Date.now();
    const hvNetns = `${id}-hv`;
    const systemId = `${id}-chassis`;
    const netnsOf = (h: HostSpec): string => `${id}-${h.name}`;
    const ovnDir = join(dir, 'ovn');
    const hostsDir = join(dir, 'hosts');
    for (const d of ['ovs', 'ovn', 'hosts']) mkdirSync(join(dir, d));
    const own = opts.nbRemote === undefined;
    const nbRemote = opts.nbRemote ?? `unix:${join(ovnDir, 'ovnnb_db.sock')}`;
    const sbRemote = opts.sbRemote ?? `unix:${join(ovnDir, 'ovnsb_db.sock')}`;
    const nbctl = nbctlAt(nbRemote);
    const sbctl = sbctlAt(sbRemote);
    const recordProcess = (name: string) => (pid: number) => journal.add({ kind: 'process', name, pid }, cleanNorthbound);

    try {
      print(`lab ${id}: chassis ${systemId}: Open vSwitch (userspace datapath) in namespace ${hvNetns}, files in ${dir}`);
      await addNetns(hvNetns);
      const ovs = await startLabOvs(join(dir, 'ovs'), hvNetns, (name, pid) => recordProcess(name)(pid), signal);
      await configureChassis(ovs.vsctl, { systemId, sbRemote });

      // The ovnts processes run in the chassis namespace, pointed at its OVS by OVS_RUNDIR.
      const ovnts = (args: string[]): string[] => ['netns', 'exec', hvNetns, ...opts.ovnts, ...args];
      const pidfile = join(ovnDir, own ? 'up.pid' : 'controller.pid');
      const hasPid = async (): Promise<boolean> => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '';
      if (own) {
        print(`lab ${id}: ovnts up: NB ${nbRemote}, SB ${sbRemote}, northd, controller`);
        await startDaemon(
          'ip',
          ovnts(['up', `--rundir=${ovnDir}`, `--dbdir=${ovnDir}`, `--ovs-db=${ovs.dbRemote}`, `--pidfile=${pidfile}`]),
          {
            logFile: join(ovnDir, 'up.log'),
            env: ovs.env,
            onSpawn: recordProcess('ovnts up'),
            readyWhen: hasPid,
            signal,
          },
        );
      } else {
        print(`lab ${id}: existing databases NB ${nbRemote}, SB ${sbRemote}; ovnts controller for the chassis`);
        const ctl = join(ovnDir, 'controller.ctl');
        await startDaemon(
          'ip',
          ovnts(['controller', ovs.dbRemote, `--pidfile=${pidfile}`, `--log-file=${join(ovnDir, 'controller.log')}`, `--unixctl=${ctl}`]),
          {
            logFile: join(ovnDir, 'controller.out'),
            env: ovs.env,
            // `exit` (with cleanup) removes the chassis from the SB, which outlives the lab.
            onSpawn: (pid) => journal.add({ kind: 'process', name: 'ovnts controller', pid, exitCtl: ctl }, cleanNorthbound),
            readyWhen: hasPid,
            signal,
          },
        );
      }
      await waitFor(async () => (await sbctl('--bare', '--columns=name', 'find', 'Chassis', `name=${systemId}`)).trim() === systemId, {
        what: `chassis ${systemId} in the SB`,
        signal,
      });

      print(
        `lab ${id}: logical network: router tenant1, switch dmz, DHCP options ${SUBNET}, ports dmz-vm5, dmz-c51 (tag 51), dmz-c52 (tag 52)`,
      );
      if (!own) await journal.add({ kind: 'northbound', remote: nbRemote }, cleanNorthbound);
      await programNorthbound(nbctl);

      print(`lab ${id}: br-vm5 patched to br-int; namespaces ${['vm5', 'c51', 'c52'].map((n) => `${id}-${n}`).join(', ')}`);
      const host: SeedHost = {
        ip: (...args) => runOk('ip', args, { signal }),
        createNetns: addNetns,
        dhcp: async (ns, iface) =>
          (
            await startDhclient(ns, iface, {
              dir: hostsDir,
              timeoutS: opts.dhcpTimeoutS ?? 30,
              onSpawn: recordProcess(`dhclient ${iface}`),
              signal,
            })
          ).address,
        ping: (ns, dest) => ping(ns, dest, { signal }),
      };
      await plugHosts(host, ovs.vsctl, hvNetns, netnsOf);
      await waitUntilWired(nbctl, ovs.vsctl);
      const setupMs = Date.now() - t0;
      print(`lab ${id}: every port up and installed after ${setupMs} ms`);

      const t1 = Date.now();
      let dhcpMs = 0;
      const hosts = await runSteps(host, { netnsOf, extraTargets: opts.extraPings ?? [], onLeases: () => (dhcpMs = Date.now() - t1) });
      const pingMs = Date.now() - t1 - dhcpMs;
      const { lines, failed } = reportSteps(hosts);
      for (const l of lines) print(l);
      print(`timings (ms): setup ${setupMs}, dhcp ${dhcpMs}, ping ${pingMs}, total ${Date.now() - t0}`);
      if (opts.keep) {
        journal.keep();
        kept = true;
        print(`lab ${id}: kept running (ip netns exec ${id}-vm5 ping ${ROUTER_IP}; NB ${nbRemote}); \`ovnts lab --clean\` removes it`);
      }
      return failed;
    } catch (e) {
      // The logs go with the directory: show their tails first.
      const logs = tailLogs(dir, 10);
      if (e instanceof Error && logs !== '') e.message += `\n${logs}`;
      throw e;
    }
  };

  return { run, stop };
}

/** Tears down every run under `baseDir` whose `ovnts lab` process is gone (kept or crashed); resolves to their ids. */
export async function cleanLabs(baseDir: string, print: (line: string) => void): Promise<string[]> {
  const ids: string[] = [];
  for (const j of Journal.orphans(baseDir)) {
    for (const e of await j.teardown(cleanNorthbound)) print(`lab ${j.id}: teardown: ${e}`);
    ids.push(j.id);
  }
  return ids;
}
