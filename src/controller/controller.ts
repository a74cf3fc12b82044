/**
 * The ovnts controller component: the per-host daemon of ovn-controller(8).
 *
 * It connects to the local Open vSwitch database, reads the chassis
 * configuration from `Open_vSwitch.external_ids`, creates the integration
 * bridge, registers the chassis in the southbound database named by
 * `ovn-remote`, keeps tunnel ports to every other chassis, binds local ports,
 * and hands the local facts to a flow pipeline (logical flows → OpenFlow,
 * installed by ofctrl). Once the flows for a state are in (barrier), it
 * reports the ports `up`, sets `ovn-installed` on their interfaces, and
 * reports SB_Global `nb_cfg` in Chassis_Private for `ovn-nbctl --wait=hv`.
 *
 * Every pass recomputes from the two replicas (desired state, then
 * reconcile); passes are serialised and coalesced. One pass claims a port,
 * installs its flows and reports it up; a pass whose flow inputs equal those
 * installed (the echo of its own writes) leaves the flows alone (flow-inputs.ts).
 */
import type { SslOptions } from '../ovsdb/remote.js';
import { OvsdbClient, type RowChange } from '../ovsdb/client.js';
import {
  bridgeInterfaces,
  ConfigError,
  ensureIntegrationBridge,
  findBridge,
  OVS_TABLES,
  ovsRootRow,
  parseChassisConfig,
  type ChassisConfig,
} from './ovs-config.js';
import { chassisRows, registerChassis, reportNbCfg, sbNbCfg, unregisterChassis } from './chassis.js';
import { SbModels } from './sb-models.js';
import {
  assignCtZones,
  computeBindings,
  storeBridgeNbCfg,
  storeCtZones,
  syncOvnInstalled,
  syncPortBindings,
  type Bindings,
} from './binding.js';
import { desiredTunnels, syncTunnels, tunnelPorts, type TunnelPort } from './tunnels.js';
import { desiredLocalnetPatches, localnetOfports, parseBridgeMappings, syncLocalnetPatches } from './patch.js';
import { sbConditions, type SbMonitorInputs } from './sb-monitor.js';
import { FlowInputs } from './flow-inputs.js';
import { rateLimitedLog } from '../lib/rate-limit.js';

/** The local facts of one pass, for the flow pipeline. */
export interface ChassisFacts {
  readonly config: ChassisConfig;
  readonly chassisUuid: string;
  readonly bindings: Bindings;
  /** Tunnel ports by remote chassis name. */
  readonly tunnels: ReadonlyMap<string, TunnelPort>;
  /** Conntrack zones by logical port name and `<datapath>_dnat`/`_snat`. */
  readonly ctZones: ReadonlyMap<string, number>;
  /** OpenFlow ports of localnet patch ports on the integration bridge, by localnet logical port. */
  readonly localnetPorts: ReadonlyMap<string, number>;
  /**
   * This pass must compute everything from scratch, forgetting what earlier
   * passes computed (`ovn-appctl recompute`); a flow computation without
   * memory ignores it.
   */
  readonly recompute?: boolean;
  /**
   * The flow inputs (these facts and the SB rows flows read, flow-inputs.ts)
   * equal those of the last pass whose flows were installed: a pipeline whose
   * switch still holds that table may skip computing and installing.
   */
  readonly sameInputs?: boolean;
}

/**
 * What the controller needs from the OpenFlow side: install the flows for the
 * facts of a pass and resolve once OVS has them (after a barrier), with the
 * Port_Binding UUIDs whose flows are now installed. `false` when the switch
 * is not connected (the pass is retried when it is).
 */
export interface FlowPipeline {
  start(bridge: string): Promise<void>;
  install(sb: OvsdbClient, facts: ChassisFacts): Promise<{ installedPorts: ReadonlySet<string> } | false>;
  /** Subscribes to "run a pass again" (switch reconnected, ...). */
  onWake(fn: () => void): void;
  stop(): Promise<void>;
}

/** What asked for a pass: a database update, a (re)connection, the OpenFlow side, a retry… */
export type PassTrigger =
  'ovs' | 'ovs-connected' | 'sb' | 'sb-connected' | 'conditions' | 'openflow' | 'retry' | 'recompute' | 'start' | 'request';

/** The controller's counters (`ovn-appctl` status, tests, benches). */
export interface ControllerStats {
  passes: number;
  errors: number;
  /** Passes that reached the flow pipeline and saw their flows installed. */
  installs: number;
  /** Of those, passes whose flow inputs were those already installed (nothing computed). */
  unchanged: number;
  /** Pass requests by trigger (several requests during a pass make one more pass). */
  triggers: Partial<Record<PassTrigger, number>>;
}

export interface ControllerOptions {
  /** OVSDB remote of the local Open vSwitch database. Default `unix:$OVS_RUNDIR/db.sock` (`/var/run/openvswitch`). */
  readonly ovsRemote?: string;
  /** The flow pipeline; without one the controller registers and claims but never reports ports up. */
  readonly pipeline?: FlowPipeline;
  /** Host name for the Chassis row when `external_ids:hostname` is unset. Default: the system's. */
  readonly hostname?: string;
  /** Named logger. Default: silent. */
  readonly log?: (msg: string) => void;
  /** Delete the chassis' SB rows on stop (ovn-controller's `exit`). Default false (a restart keeps them). */
  readonly cleanupOnStop?: boolean;
  /** Keys and certificates for ssl: remotes (the SB's `ovn-remote`, or the OVS database). Default: none. */
  readonly ssl?: SslOptions;
}

/** How long a pass woken by an Open vSwitch database update waits for the updates that follow it (ms). */
const OVS_SETTLE_MS = 3;

/** The directory OVS keeps its sockets in (ovs-vswitchd(8)). */
export function ovsRunDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['OVS_RUNDIR'] ?? '/var/run/openvswitch';
}

export class Controller {
  private readonly opts: ControllerOptions;
  private readonly log: (m: string) => void;
  private readonly warn: (m: string) => void;
  private readonly ovs: OvsdbClient;
  private sb: OvsdbClient | undefined;
  private sbRemote: string | undefined;
  private running = false;
  private passing: Promise<void> | undefined;
  private dirty = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pipelineStarted = false;
  private systemId: string | undefined;
  /** Counters for tests and `status`; `triggers` counts pass requests by what asked (see {@link PassTrigger}). */
  readonly stats: ControllerStats = { passes: 0, errors: 0, installs: 0, unchanged: 0, triggers: {} };
  private lastFacts: ChassisFacts | undefined;
  /** The next pass that reaches the flow computation computes from scratch. */
  private recomputeNext = false;
  /** The SB rows as their typed models, converted once per replica row. */
  private readonly sbModels = new SbModels();
  /** The SB monitor conditions last asked for (JSON), see sb-monitor.ts. */
  private sbConds = '';
  /** The part of them that selects by datapath (JSON): when it changes, the replica lacks rows until the update. */
  private sbDatapathConds = '';
  /** What the flows of the last installed pass were computed from. */
  private readonly flowInputs = new FlowInputs();

  constructor(opts: ControllerOptions = {}) {
    this.opts = opts;
    this.log = opts.log ?? ((): void => undefined);
    // A retrying pass or a lost database says so a few times, then once every few seconds.
    this.warn = rateLimitedLog(this.log, 12, 20);
    this.ovs = new OvsdbClient({
      remotes: opts.ovsRemote ?? `unix:${ovsRunDir()}/db.sock`,
      database: 'Open_vSwitch',
      tables: Object.fromEntries(Object.entries(OVS_TABLES).map(([t, c]) => [t, [...c]])),
      log: (m) => this.warn(`ovs: ${m}`),
      ...(opts.ssl === undefined ? {} : { ssl: opts.ssl }),
    });
    this.ovs.on('change', () => this.schedule('ovs'));
    this.ovs.on('connected', () => this.schedule('ovs-connected'));
  }

  /** Connects to the local Open vSwitch database and starts the passes. */
  async start(): Promise<void> {
    if (this.running) throw new Error('controller already started');
    this.running = true;
    this.opts.pipeline?.onWake(() => this.schedule('openflow'));
    await this.ovs.start();
    this.log(`connected to the Open vSwitch database at ${this.ovs.currentRemote ?? '?'}`);
    this.schedule('start');
  }

  /**
   * Stops. With `cleanup` (default: the `cleanupOnStop` option) the chassis
   * leaves the SB as ovn-controller's `exit` makes it: its ports are released
   * (`chassis` cleared; `up` left as it is, as 23.03 does) and its Chassis,
   * Encap and Chassis_Private rows deleted.
   */
  async stop(cleanup: boolean = this.opts.cleanupOnStop === true): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    if (!cleanup) {
      // Nothing more to write: close the connections first, so that a pass waiting on a peer that does not answer (an
      // SB commit, an OVS transaction, an OpenFlow barrier) ends now instead of at the daemon's stop deadline.
      await this.opts.pipeline?.stop();
      await Promise.all([this.sb?.stop(), this.ovs.stop()]);
      await this.passing?.catch(() => undefined);
      return;
    }
    await this.passing;
    const sb = this.sb;
    if (cleanup && sb !== undefined && this.systemId !== undefined && sb.isConnected) {
      const rows = chassisRows(sb, this.systemId, this.sbModels);
      if (rows !== undefined) {
        const release = sb.txn();
        for (const pb of sb.table('Port_Binding').values()) {
          if (this.sbModels.of('Port_Binding', pb).chassis === rows.chassis._uuid)
            release.update('Port_Binding', pb.uuid, { chassis: ['set', []] });
        }
        if (release.size > 0) await release.commit().catch((e: unknown) => this.log(`cleanup: ${String(e)}`));
      }
      await unregisterChassis(sb, this.systemId, this.sbModels).catch((e: unknown) => this.log(`cleanup: ${String(e)}`));
    }
    await this.opts.pipeline?.stop();
    await this.sb?.stop();
    await this.ovs.stop();
  }

  /** True while the southbound database connection is up (`connection-status`). */
  get sbConnected(): boolean {
    return this.sb?.isConnected ?? false;
  }

  /** The SB client, once `ovn-remote` is known. */
  get southbound(): OvsdbClient | undefined {
    return this.sb;
  }

  get openvswitch(): OvsdbClient {
    return this.ovs;
  }

  /** The facts of the last complete pass. */
  get facts(): ChassisFacts | undefined {
    return this.lastFacts;
  }

  /**
   * A full recompute (ovn-controller(8) `recompute`): the next pass computes
   * the flows from scratch; resolves once it (and any pass pending) is done.
   */
  async recompute(): Promise<void> {
    this.recomputeNext = true;
    this.schedule('recompute');
    await this.idle();
  }

  /** Resolves when no pass is running or pending (for tests and `--wait`-like barriers). */
  async idle(): Promise<void> {
    while (this.passing !== undefined) await this.passing;
  }

  /** Requests a pass; passes never overlap and requests during one coalesce into the next. */
  schedule(trigger: PassTrigger = 'request'): void {
    if (!this.running) return;
    this.stats.triggers[trigger] = (this.stats.triggers[trigger] ?? 0) + 1;
    if (this.passing !== undefined) {
      this.dirty = true;
      return;
    }
    this.passing = (async () => {
      // Start after the rest of this turn of the event loop, so that the other updates read
      // from the same socket data join this pass; after an OVS update, a little later still:
      // ovs-vswitchd reports a new port in several updates (Port and Interface, then its
      // ofport once the port exists), each of which would otherwise make a pass of its own.
      await new Promise<void>((resolve) => (trigger === 'ovs' ? setTimeout(resolve, OVS_SETTLE_MS) : setImmediate(resolve)));
      // Stopped meanwhile: no pass after stop() (whose cleanup waits for this one).
      while (this.running) {
        this.dirty = false;
        try {
          await this.pass();
        } catch (e) {
          this.stats.errors++;
          this.warn(`pass failed: ${e instanceof Error ? e.message : String(e)}`);
          // Failed writes (lost races, lost connections) are retried after a pause.
          this.retryLater();
        }
        if (!this.dirty) break;
      }
      this.passing = undefined;
    })();
  }

  private retryLater(ms = 500): void {
    if (this.retryTimer !== undefined || !this.running) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule('retry');
    }, ms);
  }

  /**
   * The SB client for `remote`; a new one starts with the conditions for
   * `inputs` (before the chassis and its datapaths are known: the ports its
   * interfaces name, and patch ports).
   */
  private async ensureSouthbound(remote: string, inputs: SbMonitorInputs): Promise<OvsdbClient> {
    if (this.sb !== undefined && this.sbRemote === remote) return this.sb;
    const old = this.sb;
    this.sb = undefined;
    await old?.stop();
    const conditions: Record<string, readonly unknown[]> = {};
    for (const [t, where] of Object.entries(sbConditions(inputs))) if (where !== undefined) conditions[t] = where;
    this.sbConds = JSON.stringify(sbConditions(inputs));
    const sb = new OvsdbClient({
      remotes: remote,
      database: 'OVN_Southbound',
      conditions,
      log: (m) => this.warn(`sb: ${m}`),
      probeIntervalMs: 0,
      ...(this.opts.ssl === undefined ? {} : { ssl: this.opts.ssl }),
    });
    sb.on('change', (changes: RowChange[]) => {
      this.flowInputs.sbChanged(changes, this.lastFacts);
      this.schedule('sb');
    });
    sb.on('connected', (r) => {
      this.log(`connected to the southbound database at ${r}`);
      this.flowInputs.invalidate();
      this.schedule('sb-connected');
    });
    this.sb = sb;
    this.sbRemote = remote;
    // start() resolves on the first connection; the client keeps retrying until then.
    sb.start().catch((e: unknown) => this.warn(`sb: ${String(e)}`));
    return sb;
  }

  /**
   * Narrows or widens the SB monitor to what `bindings` need (sb-monitor.ts).
   * True when the datapaths it selects changed: the replica lacks their rows
   * (logical flows, ports…) until the update, so the pass stops there (the
   * update, or this method, schedules the next one). A change of only the
   * ports named (a new interface's `iface-id` on a datapath already here)
   * lets the pass go on: the ports it binds are in the replica already.
   */
  private async followBindings(
    sb: OvsdbClient,
    monitorAll: boolean,
    chassisUuid: string,
    ifaceIds: readonly string[],
    bindings: Bindings,
  ): Promise<boolean> {
    const datapathKeys = new Map<string, number>();
    for (const dp of this.sbModels.rows(sb, 'Datapath_Binding')) datapathKeys.set(dp._uuid, dp.tunnel_key);
    const dpGroups = new Map<string, string[]>();
    for (const g of this.sbModels.rows(sb, 'Logical_DP_Group')) dpGroups.set(g._uuid, g.datapaths);
    const want = sbConditions({
      monitorAll,
      chassisUuid,
      ifaceIds,
      localVifs: bindings.vifs.keys(),
      localDatapaths: bindings.localDatapaths,
      datapathKeys,
      dpGroups,
    });
    const json = JSON.stringify(want);
    if (json === this.sbConds) return false;
    const byDatapath = JSON.stringify([[...bindings.localDatapaths].sort(), ...Object.entries(want).filter(([t]) => t !== 'Port_Binding')]);
    await sb.setConditions(want);
    this.sbConds = json;
    if (byDatapath === this.sbDatapathConds) return false;
    this.sbDatapathConds = byDatapath;
    this.schedule('conditions');
    return true;
  }

  private async pass(): Promise<void> {
    this.stats.passes++;
    if (!this.ovs.isConnected) return;
    const root = ovsRootRow(this.ovs);
    if (root === undefined) return;
    let cfg: ChassisConfig;
    try {
      cfg = this.opts.hostname === undefined ? parseChassisConfig(root) : parseChassisConfig(root, this.opts.hostname);
    } catch (e) {
      if (e instanceof ConfigError) {
        this.warn(e.message);
        return;
      }
      throw e;
    }
    this.systemId = cfg.systemId;
    if (await ensureIntegrationBridge(this.ovs, cfg)) return; // the update schedules the next pass
    const br = findBridge(this.ovs, cfg.bridge);
    if (br === undefined) return;
    const pipeline = this.opts.pipeline;
    if (pipeline !== undefined && !this.pipelineStarted) {
      this.pipelineStarted = true;
      await pipeline.start(cfg.bridge);
    }
    const ifaceIds = bridgeInterfaces(this.ovs, cfg.bridge).flatMap((i) => {
      const id = i.externalIds.get('iface-id');
      return id === undefined || id === '' ? [] : [id];
    });
    const sb = await this.ensureSouthbound(cfg.remote, {
      monitorAll: cfg.monitorAll,
      chassisUuid: undefined,
      ifaceIds,
      localVifs: [],
      localDatapaths: new Set(),
      datapathKeys: new Map(),
      dpGroups: new Map(),
    });
    if (!sb.isConnected) return;
    const dpType = String(br.scalar('datapath_type'));
    if (await registerChassis(sb, cfg, dpType, this.sbModels)) return;
    const rows = chassisRows(sb, cfg.systemId, this.sbModels);
    if (rows === undefined) return;
    const chassisUuid = rows.chassis._uuid;

    await syncTunnels(this.ovs, cfg.bridge, desiredTunnels(sb, cfg, this.sbModels), this.log);
    const bindings = computeBindings(this.ovs, sb, cfg.bridge, chassisUuid, cfg.systemId, this.sbModels);
    // The SB rows replicated follow the bindings: when they change, act on nothing until
    // the replica holds what the new conditions select (the next pass).
    if (await this.followBindings(sb, cfg.monitorAll, chassisUuid, ifaceIds, bindings)) return;
    const mappings = parseBridgeMappings(cfg.bridgeMappings);
    await syncLocalnetPatches(
      this.ovs,
      desiredLocalnetPatches(sb, cfg.bridge, mappings, bindings.localDatapaths, this.sbModels),
      cfg.bridge,
      this.warn,
    );
    const { zones, changed } = assignCtZones(this.ovs, cfg.bridge, bindings);
    // One pass claims, installs the claimed ports' flows (they come from the local binding,
    // not from the claim, so the claim's commit and the zones' run while they are computed
    // and installed) and, once they are in, reports the ports up.
    const zonesStored = changed ? storeCtZones(this.ovs, cfg.bridge, zones) : undefined;
    const claim = syncPortBindings(sb, bindings, chassisUuid, new Set(), this.log, this.sbModels);
    // Both awaited after the install; a failed write fails the pass there.
    const written = Promise.all([claim, zonesStored]);
    written.catch(() => undefined);

    const nbCfg = sbNbCfg(sb, this.sbModels);
    let facts: ChassisFacts = {
      config: cfg,
      chassisUuid,
      bindings,
      tunnels: tunnelPorts(this.ovs, cfg.bridge),
      ctZones: zones,
      localnetPorts: localnetOfports(this.ovs, cfg.bridge),
      ...(this.recomputeNext ? { recompute: true } : {}),
    };
    const inputs = this.flowInputs.stamp(facts);
    if (facts.recompute !== true && this.flowInputs.unchanged(inputs)) facts = { ...facts, sameInputs: true };
    this.lastFacts = facts;
    if (pipeline === undefined) {
      await written;
      return;
    }
    let r: Awaited<ReturnType<FlowPipeline['install']>>;
    try {
      r = await pipeline.install(sb, facts);
    } catch (e) {
      this.flowInputs.invalidate();
      throw e;
    } finally {
      await written;
    }
    const [claimedNow] = await written;
    if (r === false) return;
    this.flowInputs.wasInstalled(inputs);
    if (facts.recompute === true) this.recomputeNext = false;
    this.stats.installs++;
    if (facts.sameInputs === true) this.stats.unchanged++;
    const installed = new Set([...r.installedPorts].filter((u) => bindings.claimed.has(u)));
    // The SB and the local database are written side by side (`ovn-installed` is what a CNI
    // plugin waits for; `up` what the CMS waits for); nb_cfg only after both.
    await Promise.all([
      syncPortBindings(sb, bindings, chassisUuid, installed, this.log, this.sbModels, claimedNow),
      syncOvnInstalled(this.ovs, cfg.bridge, bindings, installed),
    ]);
    await Promise.all([reportNbCfg(sb, cfg.systemId, nbCfg, Date.now(), this.sbModels), storeBridgeNbCfg(this.ovs, cfg.bridge, nbCfg)]);
  }
}

/** Factory (the component convention): a controller with `opts`. */
export function createController(opts: ControllerOptions = {}): Controller {
  return new Controller(opts);
}
