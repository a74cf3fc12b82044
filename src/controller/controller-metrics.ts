/**
 * The controller's Prometheus metrics (`ovnts controller --metrics`): flow
 * table changes and their install latency (the pass's flow computation, the
 * bundle and the barrier), packet-ins by controller action and verdict, DHCP
 * replies by message type, and — read when scraped — the desired and
 * installed flow counts.
 */
import { counter, gauge, histogram, type MetricsScope } from '../lib/metrics.js';
import type { Counter, Histogram } from 'prom-client';
import { DHCP_MSG } from '../lib/packet/dhcp.js';
import { actionOpcodeName } from './pinctrl/userdata.js';
import type { PacketInVerdict } from './packet-in.js';

/** What the gauges read from the flow pipeline when scraped. */
export interface FlowState {
  /** Flows the last pass computed. */
  desired(): number;
  /** Flows ofctrl knows to be in the bridge. */
  installed(): number;
}

const DHCP_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(DHCP_MSG).map(([n, c]) => [c, n]));

export class ControllerMetrics {
  private readonly changes: Counter<'op'>;
  private readonly installs: Histogram;
  private readonly packetIns: Counter<'opcode' | 'verdict'>;
  private readonly dhcp: Counter<'type'>;
  /** Label children by key: a packet-in costs one map lookup, not a label hash. */
  private readonly packetInChildren = new Map<string, Counter.Internal>();

  constructor(scope: MetricsScope, flows: FlowState) {
    this.changes = counter(
      scope,
      'controller_flow_changes_total',
      'OpenFlow flows added, modified and removed in the integration bridge.',
      ['op'],
    );
    this.installs = histogram(
      scope,
      'controller_flow_install_duration_seconds',
      'Time of a pass that changed the flow table: flow computation, bundle and barrier.',
    );
    this.packetIns = counter(
      scope,
      'controller_packet_ins_total',
      'Packet-ins received, by controller action and verdict (resume, packet-out, mac-binding, drop).',
      ['opcode', 'verdict'],
    );
    this.dhcp = counter(scope, 'controller_dhcp_replies_total', 'DHCPv4 replies sent (put_dhcp_opts), by message type.', ['type']);
    gauge(scope, 'controller_desired_flows', 'OpenFlow flows the last pass computed.', [], (g) => g.set(flows.desired()));
    gauge(scope, 'controller_installed_flows', 'OpenFlow flows installed in the integration bridge.', [], (g) => g.set(flows.installed()));
  }

  /** A pass that sent a bundle; `seconds` from the start of its flow computation to the barrier's reply. */
  flowsInstalled(added: number, modified: number, removed: number, seconds: number): void {
    if (added > 0) this.changes.inc({ op: 'add' }, added);
    if (modified > 0) this.changes.inc({ op: 'modify' }, modified);
    if (removed > 0) this.changes.inc({ op: 'remove' }, removed);
    this.installs.observe(seconds);
  }

  /** One packet-in: `userdata` begins with the action's opcode (32-bit big-endian). */
  packetIn(userdata: Uint8Array | undefined, v: PacketInVerdict | undefined): void {
    const code =
      userdata === undefined || userdata.length < 4
        ? -1
        : ((userdata[0] as number) << 24) | ((userdata[1] as number) << 16) | ((userdata[2] as number) << 8) | (userdata[3] as number);
    const verdict = v?.kind ?? 'none';
    const key = `${code}/${verdict}`;
    let child = this.packetInChildren.get(key);
    if (child === undefined) {
      child = this.packetIns.labels({ opcode: code < 0 ? 'none' : actionOpcodeName(code), verdict });
      this.packetInChildren.set(key, child);
    }
    child.inc();
    if (v?.kind === 'resume' && v.dhcpReplyType !== undefined)
      this.dhcp.inc({ type: DHCP_NAMES.get(v.dhcpReplyType) ?? String(v.dhcpReplyType) });
  }
}
