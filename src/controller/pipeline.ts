/**
 * The controller's flow pipeline: once per connection to ovs-vswitchd, the
 * Geneve option OVN uses (class 0x0102, type 0x80, 4 bytes) is mapped to
 * `tun_metadata0` (ovn-architecture(7), "Tunnel Encapsulations"); each pass
 * computes the desired table from the SB and the chassis facts and ofctrl
 * installs the difference in one bundle. By default all of it goes over the
 * controller's own OpenFlow 1.5 connection to `<bridge>.mgmt`
 * (openflow-link.ts); the ovs-ofctl link stays available. The flow
 * computation is a dependency: the lflow → OpenFlow translation supplies it.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { OvsdbClient } from '../ovsdb/client.js';
import type { ChassisFacts, FlowPipeline } from './controller.js';
import { Ofctrl } from './ofctrl.js';
import { OfctlFlowLink } from './ofctl-link.js';
import type { Flow } from '../openflow/flow.js';
import { OpenFlowLink } from './openflow-link.js';
import { PinctrlLink } from './pinctrl-link.js';
import type { TlvMap } from '../openflow/codec/messages.js';
import { writeMacBinding } from './packet-in.js';
import { SbModels } from './sb-models.js';
import { secondsSince, type MetricsScope } from '../lib/metrics.js';
import { ControllerMetrics } from './controller-metrics.js';

/**
 * Computes the desired OpenFlow table (the flow model) for one pass, from the
 * facts and the SB; it must not read what flow-inputs.ts lets change without
 * a new computation (Port_Binding `up`, Chassis_Private, SB_Global `nb_cfg`).
 */
export type ComputeFlows = (sb: OvsdbClient, facts: ChassisFacts) => readonly Flow[];

export interface OfctlPipelineOptions {
  readonly compute: ComputeFlows;
  /** Environment for ovs-ofctl; OVS_RUNDIR locates `<bridge>.mgmt`. Default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Named logger. Default: silent. */
  readonly log?: (msg: string) => void;
  /** With the ovs-ofctl link: how often to check whether ovs-vswitchd was restarted (its management socket recreated), in ms. Default 1000. */
  readonly restartCheckMs?: number;
  /** Answer packet-ins (DHCP, ARP, ICMP, put_arp) on a pinctrl connection. Default true. */
  readonly pinctrl?: boolean;
  /**
   * How flows reach the bridge: `openflow` (default), the controller's own
   * OpenFlow 1.5 connection to `<bridge>.mgmt` (Geneve TLV map, flow stats,
   * atomic bundles, barriers), or `ovs-ofctl`, one ovs-ofctl run per bundle
   * (for comparison and debugging: the same table through OVS's own parser).
   * Default: `OVNTS_FLOW_LINK` in `env` when set, else `openflow`.
   */
  readonly link?: 'openflow' | 'ovs-ofctl';
  /** Where flow installs, packet-ins and DHCP replies are counted (`--metrics`). Default: not counted. */
  readonly metrics?: MetricsScope;
}

/** The Geneve option that carries OVN's logical ingress and egress ports, in ovs-ofctl add-tlv-map syntax. */
export const OVN_GENEVE_TLV = '{class=0x102,type=0x80,len=4}->tun_metadata0';
/** The same mapping as NXT_TLV_TABLE_MOD carries it. */
export const OVN_GENEVE_OPTION: TlvMap = { optClass: 0x102, optType: 0x80, optLen: 4, index: 0 };

function ofctl(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ovs-ofctl', ['-O', 'OpenFlow15', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

/** Maps OVN's Geneve option to tun_metadata0 unless that mapping is already there (the ovs-ofctl link). */
export async function ensureGeneveTlv(bridge: string, env: NodeJS.ProcessEnv): Promise<void> {
  const dump = await ofctl(env, ['dump-tlv-map', bridge]);
  if (dump.code !== 0) throw new Error(`ovs-ofctl dump-tlv-map: ${dump.err.trim()}`);
  if (/^\s*0x102\s+0x80\s+4\s+tun_metadata0\s*$/m.test(dump.out)) return;
  const add = await ofctl(env, ['add-tlv-map', bridge, OVN_GENEVE_TLV]);
  if (add.code !== 0) throw new Error(`ovs-ofctl add-tlv-map: ${add.err.trim()}`);
}

export class OfctlPipeline implements FlowPipeline {
  private ofctrl: Ofctrl<Flow> | undefined;
  private bridge = '';
  private tlvReady = false;
  private readonly env: NodeJS.ProcessEnv;
  private readonly log: (m: string) => void;
  private readonly wakers: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  /** Identity of the management socket file: a new one means a new ovs-vswitchd (whose tables start empty). */
  private socketId: string | undefined;
  private pinctrl: PinctrlLink | undefined;
  private nativeLink: OpenFlowLink | undefined;
  private sb: OvsdbClient | undefined;

  private readonly link: 'openflow' | 'ovs-ofctl';
  /** SB rows as typed models for the MAC_Binding writer, converted once per row. */
  private readonly sbModels = new SbModels();
  private readonly metrics: ControllerMetrics | undefined;
  /** Flows the last pass computed (for the metrics). */
  private desiredCount = 0;

  constructor(private readonly opts: OfctlPipelineOptions) {
    this.env = opts.env ?? process.env;
    this.log = opts.log ?? ((): void => undefined);
    const link = opts.link ?? this.env['OVNTS_FLOW_LINK'] ?? 'openflow';
    if (link !== 'openflow' && link !== 'ovs-ofctl') throw new Error(`OVNTS_FLOW_LINK=${link}: expected openflow or ovs-ofctl`);
    this.link = link;
    this.metrics =
      opts.metrics === undefined
        ? undefined
        : new ControllerMetrics(opts.metrics, { desired: () => this.desiredCount, installed: () => this.ofctrl?.installedFlows.size ?? 0 });
  }

  async start(bridge: string): Promise<void> {
    this.bridge = bridge;
    const rundir = this.env['OVS_RUNDIR'] ?? '/var/run/openvswitch';
    if (this.link === 'openflow') {
      const link = new OpenFlowLink({
        target: `unix:${join(rundir, `${bridge}.mgmt`)}`,
        log: this.log,
        onConnected: () => {
          this.ofctrl?.connectionReset();
          this.tlvReady = false;
          for (const w of this.wakers) w();
        },
      });
      this.nativeLink = link;
      link.start();
      this.ofctrl = new Ofctrl(link, { log: this.log });
    } else {
      this.ofctrl = new Ofctrl(new OfctlFlowLink({ target: bridge, env: this.env }), { log: this.log });
    }
    this.socketId = this.mgmtSocketId();
    if (this.opts.pinctrl !== false) {
      this.pinctrl = new PinctrlLink({
        path: join(this.env['OVS_RUNDIR'] ?? '/var/run/openvswitch', `${bridge}.mgmt`),
        log: this.log,
        ...(this.metrics === undefined ? {} : { metrics: this.metrics }),
        onMacBinding: (b) => {
          const sb = this.sb;
          if (sb === undefined || !sb.isConnected) return;
          writeMacBinding(sb, b, Date.now(), this.sbModels).catch((e: unknown) =>
            this.log(`pinctrl: MAC_Binding not written: ${String(e)}`),
          );
        },
      });
      this.pinctrl.start();
    }
    // The native connection notices a restart itself (it drops and reconnects); ovs-ofctl runs do not.
    if (this.nativeLink === undefined) {
      this.timer = setInterval(() => this.checkRestart(), this.opts.restartCheckMs ?? 1000);
      this.timer.unref();
    }
  }

  private mgmtSocketId(): string | undefined {
    const dir = this.env['OVS_RUNDIR'] ?? '/var/run/openvswitch';
    try {
      const st = statSync(join(dir, `${this.bridge}.mgmt`));
      return `${st.dev}:${st.ino}:${st.ctimeMs}`;
    } catch {
      return undefined;
    }
  }

  /** After an ovs-vswitchd restart the installed table is read again and the TLV map set up again. */
  private checkRestart(): void {
    const id = this.mgmtSocketId();
    if (id === this.socketId) return;
    this.socketId = id;
    if (id === undefined) return;
    this.log(`${this.bridge}.mgmt changed (ovs-vswitchd restarted?): re-reading the installed flows`);
    this.ofctrl?.connectionReset();
    this.tlvReady = false;
    for (const w of this.wakers) w();
  }

  /** The pinctrl connection's counters and drop statistics. */
  get pinctrlLink(): PinctrlLink | undefined {
    return this.pinctrl;
  }

  /** Ofctrl's counters (bundles, flows, reconciles). */
  get stats(): Ofctrl<Flow>['stats'] | undefined {
    return this.ofctrl?.stats;
  }

  async install(sb: OvsdbClient, facts: ChassisFacts): Promise<{ installedPorts: ReadonlySet<string> } | false> {
    const o = this.ofctrl;
    if (o === undefined) return false;
    this.sb = sb;
    if (this.nativeLink !== undefined && !this.nativeLink.connected) return false;
    if (!this.tlvReady) {
      if (this.nativeLink !== undefined) await this.nativeLink.ensureTlvMap(OVN_GENEVE_OPTION);
      else await ensureGeneveTlv(this.bridge, this.env);
      this.tlvReady = true;
    }
    // The ports in these facts get their flows with this table.
    const ports = new Set(facts.bindings.claimed);
    // Inputs already installed, on a switch that still has them: the table would come out the same.
    if (facts.sameInputs === true && o.inSync) return { installedPorts: ports };
    const t0 = performance.now();
    const desired = this.opts.compute(sb, facts);
    this.desiredCount = desired.length;
    const computeMs = Math.round((performance.now() - t0) * 10) / 10;
    const before = o.stats.bundles;
    if (!(await o.install(desired))) return false;
    const t = o.lastInstall;
    // One line per change of the table: where the time between a change and its flows went.
    if (o.stats.bundles !== before && t !== undefined) {
      this.metrics?.flowsInstalled(t.added, t.modified, t.removed, secondsSince(t0));
      this.log(
        `flows +${t.added} ~${t.modified} -${t.removed} of ${desired.length}: compute ${computeMs} ms, ${t.readMs > 1 ? `read ${t.readMs} ms, ` : ''}bundle ${t.bundleMs} ms, barrier ${t.barrierMs} ms`,
      );
    }
    return { installedPorts: ports };
  }

  onWake(fn: () => void): void {
    this.wakers.push(fn);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.pinctrl?.stop();
    this.pinctrl = undefined;
    await this.nativeLink?.stop();
    this.nativeLink = undefined;
    this.ofctrl = undefined;
  }
}

/** Factory (the component convention). */
export function createOfctlPipeline(opts: OfctlPipelineOptions): OfctlPipeline {
  return new OfctlPipeline(opts);
}
