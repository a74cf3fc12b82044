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
 * reconcile); passes are serialised and coalesced.
 */
import type { SslOptions } from '../ovsdb/remote.js';
import { OvsdbClient } from '../ovsdb/client.js';
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
  /** Counters for tests and `status`. */
  readonly stats = { passes: 0, errors: 0, installs: 0 };
  private lastFacts: ChassisFacts | undefined;
  /** The next pass that reaches the flow computation computes from scratch. */
  private recomputeNext = false;
  /** The SB rows as their typed models, converted once per replica row. */
  private readonly sbModels = new SbModels();
  /** The SB monitor conditions last asked for (JSON), see sb-monitor.ts. */
  private sbConds = '';

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
    this.ovs.on('change', () => this.schedule());
    this.ovs.on('connected', () => this.schedule());
  }

  /** Connects to the local Open vSwitch database and starts the passes. */
  async start(): Promise<void> {
    if (this.running) throw new Error('controller already started');
    this.running = true;
    this.opts.pipeline?.onWake(() => this.schedule());
    await this.ovs.start();
    this.log(`connected to the Open vSwitch database at ${this.ovs.currentRemote ?? '?'}`);
    this.schedule();
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
    this.schedule();
    await this.idle();
  }

  /** Resolves when no pass is running or pending (for tests and `--wait`-like barriers). */
  async idle(): Promise<void> {
    while (this.passing !== undefined) await this.passing;
  }

  /** Requests a pass; passes never overlap and requests during one coalesce into the next. */
  schedule(): void {
    if (!this.running) return;
    if (this.passing !== undefined) {
      this.dirty = true;
      return;
    }
    this.passing = (async () => {
      do {
        this.dirty = false;
        try {
          await this.pass();
        } catch (e) {
          this.stats.errors++;
          this.warn(`pass failed: ${e instanceof Error ? e.message : String(e)}`);
          // Failed writes (lost races, lost connections) are retried after a pause.
          this.retryLater();
        }
      } while (this.dirty && this.running);
      this.passing = undefined;
    })();
  }

  private retryLater(ms = 500): void {
    if (this.retryTimer !== undefined || !this.running) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
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
    sb.on('change', () => this.schedule());
    sb.on('connected', (r) => {
      this.log(`connected to the southbound database at ${r}`);
      this.schedule();
    });
    this.sb = sb;
    this.sbRemote = remote;
    // start() resolves on the first connection; the client keeps retrying until then.
    sb.start().catch((e: unknown) => this.warn(`sb: ${String(e)}`));
    return sb;
  }

  /**
   * Narrows or widens the SB monitor to what `bindings` need (sb-monitor.ts);
   * true when the conditions changed (the pass stops; the update, or this
   * method, schedules the next one).
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
    await sb.setConditions(want);
    this.sbConds = json;
    this.schedule();
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
    if (changed) await storeCtZones(this.ovs, cfg.bridge, zones);
    // Claim, and install the port's flows in the same pass (they come from the local
    // binding, not from the claim); `up` follows in the pass the claim's update starts.
    const claimedNow = await syncPortBindings(sb, bindings, chassisUuid, new Set(), this.log, this.sbModels);

    const nbCfg = sbNbCfg(sb, this.sbModels);
    const facts: ChassisFacts = {
      config: cfg,
      chassisUuid,
      bindings,
      tunnels: tunnelPorts(this.ovs, cfg.bridge),
      ctZones: zones,
      localnetPorts: localnetOfports(this.ovs, cfg.bridge),
      ...(this.recomputeNext ? { recompute: true } : {}),
    };
    this.lastFacts = facts;
    if (pipeline === undefined) return;
    const r = await pipeline.install(sb, facts);
    if (r === false) return;
    if (facts.recompute === true) this.recomputeNext = false;
    this.stats.installs++;
    const installed = new Set([...r.installedPorts].filter((u) => bindings.claimed.has(u)));
    if (claimedNow) return;
    await syncPortBindings(sb, bindings, chassisUuid, installed, this.log, this.sbModels);
    await syncOvnInstalled(this.ovs, cfg.bridge, bindings, installed);
    await reportNbCfg(sb, cfg.systemId, nbCfg, Date.now(), this.sbModels);
    await storeBridgeNbCfg(this.ovs, cfg.bridge, nbCfg);
  }
}

/** Factory (the component convention): a controller with `opts`. */
export function createController(opts: ControllerOptions = {}): Controller {
  return new Controller(opts);
}
