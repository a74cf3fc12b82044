/**
 * `ovnts trace`'s tree as the page draws it: the walk flattened into the
 * logical datapaths' pipelines in the order the packet meets them, each with
 * the tables it passed (the flow that matched, in the words `ovnts trace
 * --detailed` prints, and the actions under it), and the verdict: the ports
 * the packet is output to, or a drop and why.
 */
import { formatTrace, type TraceNode, type TraceTree } from '../trace/index.js';

export interface TraceStep {
  /** The table line as `--detailed` prints it (trimmed): `N. stage (source): match, priority P, uuid U`. */
  readonly text: string;
  readonly table: number;
  /** The stage name (Logical_Flow external_ids:stage-name), when the table has one. */
  readonly stage: string | undefined;
  /** The actions and comments printed under the table (nested pipelines excluded). */
  readonly actions: readonly string[];
}

export interface TraceSection {
  /** `ingress(dp="dmz", inport="dmz-c51")`, `egress(…)`, `multicast(…)`, `ct_next(ct_state=…)`… */
  readonly title: string;
  readonly kind: 'pipeline' | 'transformation';
  /** The datapath named in the title (dp="…"), if any. */
  readonly datapath: string | undefined;
  /** Nesting depth: a pipeline reached from another pipeline's table is one deeper. */
  readonly depth: number;
  readonly steps: readonly TraceStep[];
}

export interface TraceVerdict {
  readonly kind: 'output' | 'drop';
  /** Logical ports the packet leaves by: `output("P")` as `--minimal` prints it (not the patch ports it crosses on the way). */
  readonly outports: readonly string[];
  /** For a drop: the table or action that dropped it. */
  readonly reason: string | undefined;
}

export interface TracePath {
  readonly microflow: string;
  /** The `# flow` line. */
  readonly flow: string;
  readonly sections: readonly TraceSection[];
  readonly verdict: TraceVerdict | undefined;
  /** ovn-trace's stdout for the same input (--detailed). */
  readonly detailed: string;
  /** A bad microflow or datapath, in ovn-trace's words. */
  readonly problem: string | undefined;
  readonly warnings: readonly string[];
}

const OUTPUT = /^output\("([^"]*)"\)$/;
const TABLE_LINE = /^\s*(\d+)\. (?:([a-z0-9_]+)(?: \([^)]*\))?: )?/;

export function tracePath(microflow: string, t: TraceTree): TracePath {
  const sections: TraceSection[] = [];
  const outports: string[] = [];
  let lastTable: string | undefined;
  let lastAction: string | undefined;
  let lastError: string | undefined;

  const walkSection = (title: TraceNode, depth: number): void => {
    const steps: TraceStep[] = [];
    const dp = /dp="([^"]*)"/.exec(title.name)?.[1];
    sections.push({ title: title.name, kind: title.type === 'pipeline' ? 'pipeline' : 'transformation', datapath: dp, depth, steps });
    walk(title.subs, depth, steps);
  };
  const walk = (nodes: readonly TraceNode[], depth: number, steps: TraceStep[]): void => {
    for (const n of nodes) {
      if (n.type === 'pipeline' || n.type === 'transformation') {
        walkSection(n, depth + 1);
        continue;
      }
      if (n.type === 'table') {
        const m = TABLE_LINE.exec(n.name);
        const actions = n.subs.filter((s) => s.type === 'action' || s.type === 'error').map((s) => s.name);
        steps.push({ text: n.name.trim(), table: Number(m?.[1] ?? -1), stage: m?.[2], actions });
        lastTable = n.name.trim();
        lastAction = actions[actions.length - 1];
        walk(n.subs, depth, steps);
        continue;
      }
      if (n.type === 'output') {
        const out = OUTPUT.exec(n.name)?.[1];
        if (out !== undefined) outports.push(out);
      }
      if (n.type === 'error') lastError = n.name;
      walk(n.subs, depth, steps);
    }
  };
  for (const n of t.nodes) {
    if (n.type === 'pipeline' || n.type === 'transformation') walkSection(n, 0);
  }
  const detailed = t.problem !== undefined ? `${t.problem}\n` : t.ok ? `${t.head}\n${formatTrace(t.nodes, 'detailed')}` : '';
  const verdict: TraceVerdict | undefined =
    t.nodes.length === 0
      ? undefined
      : outports.length > 0
        ? { kind: 'output', outports, reason: undefined }
        : { kind: 'drop', outports: [], reason: lastError ?? [lastTable, lastAction].filter((x) => x !== undefined).join(' → ') };
  return { microflow, flow: t.head, sections, verdict, detailed, problem: t.problem, warnings: t.warnings };
}
