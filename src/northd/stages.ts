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
