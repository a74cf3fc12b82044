/**
 * The controller's flow pipeline as the daemons assemble it (`ovnts controller`,
 * `ovnts up`): ofctrl over the bridge, computing each pass with the lflow →
 * OpenFlow translation and the physical flows (physical.ts), incrementally
 * (each pass redoes only what changed; `recompute` starts it from scratch).
 */
import type { FlowPipeline } from './controller.js';
import { createFlowComputer } from './physical.js';
import { createOfctlPipeline } from './pipeline.js';
import type { MetricsScope } from '../lib/metrics.js';

/** `metrics`: where flow installs and packet-ins are counted (`--metrics`). */
export function createFlowPipeline(log: (m: string) => void, metrics?: MetricsScope): FlowPipeline {
  return createOfctlPipeline({ compute: createFlowComputer({ log }).compute, log, ...(metrics === undefined ? {} : { metrics }) });
}
