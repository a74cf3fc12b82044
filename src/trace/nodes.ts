/**
 * The trace tree ovn-trace(8) prints in its three formats. Every node has a
 * kind that decides where it shows up: `action` (detailed, summary), `error`
 * (all three), `modify` and `output` (minimal only), `table` (detailed only;
 * transparent otherwise), `pipeline` (detailed and summary), `transformation`
 * (all three: `ct_next(…)`, `clone`, `arp`…).
 */
export type NodeType = 'error' | 'output' | 'modify' | 'action' | 'pipeline' | 'table' | 'transformation';

export interface TraceNode {
  readonly type: NodeType;
  readonly name: string;
  /** Indented even as the last of its siblings (multicast branches). */
  readonly alwaysIndent: boolean;
  /** Whether `--summary` ends the line with ";" (ovn-trace does not for lookup comments). */
  readonly semicolon: boolean;
  readonly subs: TraceNode[];
}

/** Appends a node to a list and returns it. */
export function addNode(list: TraceNode[], type: NodeType, name: string, alwaysIndent = false, semicolon = true): TraceNode {
  const n: TraceNode = { type, name, alwaysIndent, semicolon, subs: [] };
  list.push(n);
  return n;
}

/** Terminal kinds have no children and are always indented under their parent. */
export function isTerminal(t: NodeType): boolean {
  return t === 'error' || t === 'output' || t === 'modify' || t === 'action';
}
