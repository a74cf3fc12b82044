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
  /**
   * Packet-ins and DHCP replies since the last scrape, in plain numbers by
   * label key: a packet-in costs a map lookup; the counters get them when scraped.
   */
  private readonly pendingPacketIns = new Map<string, { labels: { opcode: string; verdict: string }; n: number }>();
  private readonly pendingDhcp = new Map<number, number>();

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
    counter(
      scope,
      'controller_packet_ins_total',
      'Packet-ins received, by controller action and verdict (resume, packet-out, mac-binding, drop).',
      ['opcode', 'verdict'],
      (c) => {
        for (const p of this.pendingPacketIns.values()) {
          if (p.n > 0) c.inc(p.labels, p.n);
          p.n = 0;
        }
      },
    );
    counter(scope, 'controller_dhcp_replies_total', 'DHCPv4 replies sent (put_dhcp_opts), by message type.', ['type'], (c) => {
      for (const [type, n] of this.pendingDhcp) if (n > 0) c.inc({ type: DHCP_NAMES.get(type) ?? String(type) }, n);
      this.pendingDhcp.clear();
    });
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
    let p = this.pendingPacketIns.get(key);
    if (p === undefined)
      this.pendingPacketIns.set(key, (p = { labels: { opcode: code < 0 ? 'none' : actionOpcodeName(code), verdict }, n: 0 }));
    p.n++;
    if (v?.kind === 'resume' && v.dhcpReplyType !== undefined)
      this.pendingDhcp.set(v.dhcpReplyType, (this.pendingDhcp.get(v.dhcpReplyType) ?? 0) + 1);
  }
}
