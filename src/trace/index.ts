/**
 * `ovnts trace`'s engine: a Southbound snapshot and a microflow in, ovn-trace(8)
 * output out. Pure (no I/O); the CLI in src/cli/trace.ts supplies the snapshot.
 */
import { formatTrace, type TraceFormat } from './format.js';
import { describeFlow, MicroflowError, parseMicroflow } from './microflow.js';
import { Tracer } from './execute.js';
import { SbIndex, type SbSnapshot } from './snapshot.js';
import type { TraceNode } from './nodes.js';

export { SbIndex, datapathName, type SbSnapshot } from './snapshot.js';
export { parseMicroflow, describeFlow, MicroflowError } from './microflow.js';
export { Tracer, parseCtFlags, ctStateText, ctStateProblem, type TraceOptions } from './execute.js';
export { formatTrace, type TraceFormat } from './format.js';
export { checkInPortSec, checkOutPortSec } from './port-security.js';
export type { TraceNode, NodeType } from './nodes.js';
export { snapshotFromClient, TRACE_SB_TABLES } from './sb-source.js';

export interface TraceRequest {
  /** DATAPATH as given (name, name2 or UUID); undefined = the inport's. */
  readonly datapath?: string;
  readonly microflow: string;
  readonly format: TraceFormat;
  /** Parsed `--ct` states (see parseCtFlags). */
  readonly ct?: readonly number[];
  /** false (--no-friendly-names): datapaths by UUID. Default true. */
  readonly friendlyNames?: boolean;
}

/** What ovn-trace would write: stdout text, warnings (logged to stderr), and whether it failed. */
export interface TraceOutput {
  readonly stdout: string;
  readonly warnings: readonly string[];
  readonly ok: boolean;
}

/**
 * One trace as a tree: `head` is the `# flow` line, `nodes` the walk (empty
 * when there is none). `problem` is what ovn-trace prints on stdout instead of
 * a trace for a bad microflow or unknown datapath (it exits 0 for them);
 * `ok` is false for an unknown or missing inport (ovn-trace's warnings).
 */
export interface TraceTree {
  readonly head: string;
  readonly nodes: readonly TraceNode[];
  readonly problem: string | undefined;
  readonly warnings: readonly string[];
  readonly ok: boolean;
}

/** Runs one trace and keeps its tree (the page of `ovnts ui` draws it); {@link trace} prints it. */
export function traceTree(snapshot: SbSnapshot | SbIndex, req: Omit<TraceRequest, 'format'>): TraceTree {
  const index = snapshot instanceof SbIndex ? snapshot : new SbIndex(snapshot);
  const none = (problem: string | undefined, warnings: string[], ok: boolean): TraceTree => ({
    head: '',
    nodes: [],
    problem,
    warnings,
    ok,
  });
  // Without a DATAPATH argument the inport's datapath is used.
  let dp = req.datapath === undefined ? undefined : index.findDatapath(req.datapath);
  if (req.datapath !== undefined && dp === undefined) return none(`unknown datapath "${req.datapath}"`, [], true);
  let packet;
  try {
    packet = parseMicroflow(req.microflow, { addressSet: (n) => index.addressSet(n), portGroup: (n) => index.portGroup(dp, n) });
  } catch (e) {
    if (e instanceof MicroflowError) return none(`error parsing flow: ${e.message}`, [], true);
    throw e;
  }
  const warnings: string[] = [];
  const inportName = packet.get('inport');
  const inport = typeof inportName === 'string' && inportName !== '' ? index.portByName.get(inportName) : undefined;
  if (typeof inportName === 'string' && inportName !== '' && inport === undefined) warnings.push(`${inportName}: unknown logical port`);
  if (inport === undefined) return none(undefined, [...warnings, 'microflow does not specify ingress port'], false);
  dp ??= index.datapathByUuid.get(inport.datapath);
  if (dp === undefined) return none(undefined, [...warnings, 'microflow does not specify ingress port'], false);
  const outportName = packet.get('outport');
  const outport = typeof outportName === 'string' && outportName !== '' ? index.portByName.get(outportName) : undefined;
  const head = `# ${describeFlow(packet, inport.tunnel_key, outport?.tunnel_key)}`;
  const nodes = new Tracer(index, { ct: req.ct ?? [], friendlyNames: req.friendlyNames ?? true }).run(dp, packet);
  return { head, nodes, problem: undefined, warnings, ok: true };
}

/**
 * Runs one trace. Bad microflows and unknown datapaths are reported on
 * stdout in ovn-trace's words (it exits 0 for them); an unknown or missing
 * inport gives ovn-trace's warnings and `ok: false`.
 */
export function trace(snapshot: SbSnapshot | SbIndex, req: TraceRequest): TraceOutput {
  const t = traceTree(snapshot, req);
  if (t.problem !== undefined) return { stdout: `${t.problem}\n`, warnings: t.warnings, ok: t.ok };
  if (!t.ok) return { stdout: '', warnings: t.warnings, ok: false };
  return { stdout: `${t.head}\n${formatTrace(t.nodes, req.format)}`, warnings: t.warnings, ok: true };
}
