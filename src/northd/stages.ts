/**
 * The one table of logical pipeline stages (ovn-northd(8)): every stage of the
 * switch and router pipelines, ingress and egress, with OVN 23.03's names and
 * table numbers. Flows name a stage, never a bare table number.
 */

export type Pipeline = 'ingress' | 'egress';
export type DatapathKind = 'switch' | 'router';

export interface Stage {
  /** OVN's name, e.g. `ls_in_l2_lkup`; becomes `external_ids:stage-name`. */
  readonly name: string;
  readonly datapath: DatapathKind;
  readonly pipeline: Pipeline;
  /** Logical table number within the pipeline (`Logical_Flow.table_id`). */
  readonly table: number;
}

function pipeline(datapath: DatapathKind, pipe: Pipeline, names: readonly string[]): Stage[] {
  return names.map((name, table) => ({ name, datapath, pipeline: pipe, table }));
}

/** Switch ingress, in table order (ovn-northd(8) "Logical Switch Datapaths"). */
const LS_IN_NAMES = [
  'ls_in_check_port_sec',
  'ls_in_apply_port_sec',
  'ls_in_lookup_fdb',
  'ls_in_put_fdb',
  'ls_in_pre_acl',
  'ls_in_pre_lb',
  'ls_in_pre_stateful',
  'ls_in_acl_hint',
  'ls_in_acl',
  'ls_in_qos_mark',
  'ls_in_qos_meter',
  'ls_in_lb_aff_check',
  'ls_in_lb',
  'ls_in_lb_aff_learn',
  'ls_in_pre_hairpin',
  'ls_in_nat_hairpin',
  'ls_in_hairpin',
  'ls_in_acl_after_lb',
  'ls_in_stateful',
  'ls_in_arp_rsp',
  'ls_in_dhcp_options',
  'ls_in_dhcp_response',
  'ls_in_dns_lookup',
  'ls_in_dns_response',
  'ls_in_external_port',
  'ls_in_l2_lkup',
  'ls_in_l2_unknown',
] as const;
const LS_OUT_NAMES = [
  'ls_out_pre_acl',
  'ls_out_pre_lb',
  'ls_out_pre_stateful',
  'ls_out_acl_hint',
  'ls_out_acl',
  'ls_out_qos_mark',
  'ls_out_qos_meter',
  'ls_out_stateful',
  'ls_out_check_port_sec',
  'ls_out_apply_port_sec',
] as const;
const LR_IN_NAMES = [
  'lr_in_admission',
  'lr_in_lookup_neighbor',
  'lr_in_learn_neighbor',
  'lr_in_ip_input',
  'lr_in_unsnat',
  'lr_in_defrag',
  'lr_in_lb_aff_check',
  'lr_in_dnat',
  'lr_in_lb_aff_learn',
  'lr_in_ecmp_stateful',
  'lr_in_nd_ra_options',
  'lr_in_nd_ra_response',
  'lr_in_ip_routing_pre',
  'lr_in_ip_routing',
  'lr_in_ip_routing_ecmp',
  'lr_in_policy',
  'lr_in_policy_ecmp',
  'lr_in_arp_resolve',
  'lr_in_chk_pkt_len',
  'lr_in_larger_pkts',
  'lr_in_gw_redirect',
  'lr_in_arp_request',
] as const;
const LR_OUT_NAMES = [
  'lr_out_chk_dnat_local',
  'lr_out_undnat',
  'lr_out_post_undnat',
  'lr_out_snat',
  'lr_out_post_snat',
  'lr_out_egr_loop',
  'lr_out_delivery',
] as const;

/** Every stage of both datapath kinds and both pipelines. */
export const STAGES: readonly Stage[] = [
  ...pipeline('switch', 'ingress', LS_IN_NAMES),
  ...pipeline('switch', 'egress', LS_OUT_NAMES),
  ...pipeline('router', 'ingress', LR_IN_NAMES),
  ...pipeline('router', 'egress', LR_OUT_NAMES),
];

type StageName =
  (typeof LS_IN_NAMES)[number] | (typeof LS_OUT_NAMES)[number] | (typeof LR_IN_NAMES)[number] | (typeof LR_OUT_NAMES)[number];

const BY_NAME = new Map(STAGES.map((s) => [s.name, s]));

/** The stage named `name` (typed: a misspelt stage does not compile). */
export function stage(name: StageName): Stage {
  return BY_NAME.get(name) as Stage;
}
