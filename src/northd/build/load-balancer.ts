/**
 * Load balancers on a logical switch (ovn-nb(5) Load_Balancer; ovn-northd(8)
 * "Pre-LB", "Pre-stateful", "LB", "Pre-Hairpin"/"Nat-Hairpin"/"Hairpin"), for
 * IPv4 VIPs with backends: packets to a VIP go through conntrack, new connections
 * pick a backend with `ct_lb_mark`, and a backend reaching its own VIP is
 * hairpinned back with the VIP as source.
 *
 * Not built (yet): IPv6 VIPs, VIPs without backends (OVN drops or rejects those),
 * health checks, affinity, selection_fields, load balancer groups, router LBs.
 */
import type * as nb from '../../ovsdb/models/ovn-nb.js';
import type { AddFlow, NbView } from '../nb-view.js';
import { stage } from '../stages.js';
import { parseIpv4, formatIpv4 } from '../../lib/lflow/index.js';

export interface Vip {
  readonly lb: nb.Load_Balancer;
  readonly ip: string;
  readonly port: number | undefined;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  /** As `ct_lb_mark(backends=...)` takes them: `ip[:port]` joined by commas. */
  readonly backends: string;
}

/** The IPv4 VIPs of a switch's load balancers that have backends. */
export function switchVips(nbv: NbView, ls: nb.Logical_Switch): Vip[] {
  const out: Vip[] = [];
  for (const u of ls.load_balancer) {
    const lb = nbv.loadBalancers.get(u);
    if (lb === undefined) continue;
    for (const [key, value] of lb.vips) {
      const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(key.trim());
      const ip = m === null ? undefined : parseIpv4(m[1] as string);
      if (m === null || ip === undefined) continue;
      const backends = value
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== '');
      if (backends.length === 0) continue;
      out.push({
        lb,
        ip: formatIpv4(ip),
        port: m[2] === undefined ? undefined : Number(m[2]),
        protocol: lb.protocol ?? 'tcp',
        backends: backends.join(','),
      });
    }
  }
  return out;
}

/** The switch's load-balancing flows; `vips` from `switchVips`. */
export function buildSwitchLbFlows(ls: nb.Logical_Switch, vips: readonly Vip[], add: AddFlow): void {
  if (vips.length === 0) return;
  add(stage('ls_in_pre_lb'), 100, 'ip', 'reg0[2] = 1; next;');
  add(stage('ls_out_pre_lb'), 100, 'ip', 'reg0[2] = 1; next;');
  for (const v of vips) {
    const l4 = v.port === undefined ? '' : ` && ${v.protocol}.dst == ${v.port}`;
    // reg1/reg2 keep the VIP for the hairpin stages (ct_snat_to_vip).
    const save = v.port === undefined ? `reg1 = ${v.ip}; ` : `reg1 = ${v.ip}; reg2[0..15] = ${v.port}; `;
    add(stage('ls_in_pre_stateful'), 120, `reg0[2] == 1 && ip4.dst == ${v.ip}${l4}`, `${save}ct_lb_mark;`, v.lb._uuid);
    add(
      stage('ls_in_lb'),
      v.port === undefined ? 110 : 120,
      `ct.new && ip4.dst == ${v.ip}${l4}`,
      `reg0[1] = 0; ct_lb_mark(backends=${v.backends});`,
      v.lb._uuid,
    );
  }
  const h = ls._uuid;
  add(stage('ls_in_pre_hairpin'), 100, 'ip && ct.trk', 'reg0[6] = chk_lb_hairpin(); reg0[12] = chk_lb_hairpin_reply(); next;', h);
  add(stage('ls_in_nat_hairpin'), 100, 'ip && ct.new && ct.trk && reg0[6] == 1', 'ct_snat_to_vip; next;', h);
  add(stage('ls_in_nat_hairpin'), 100, 'ip && ct.est && ct.trk && reg0[6] == 1', 'ct_snat;', h);
  add(stage('ls_in_nat_hairpin'), 90, 'ip && reg0[12] == 1', 'ct_snat;', h);
  add(stage('ls_in_hairpin'), 1, '(reg0[6] == 1 || reg0[12] == 1)', 'eth.dst <-> eth.src; outport = inport; flags.loopback = 1; output;');
}
