/**
 * ovn-trace(8)'s output formats for a trace tree: `--detailed` (default: every
 * table with its flow, pipelines as underlined titles), `--summary` (the actions
 * as nested blocks), `--minimal` (only what changes the packet and where it goes).
 */
import { isTerminal, type TraceNode } from './nodes.js';

/** `all` is ovn-trace's --all: the three formats one after another, each under a heading. */
export type TraceFormat = 'detailed' | 'summary' | 'minimal' | 'all';

function detailed(out: string[], nodes: readonly TraceNode[], level: number): void {
  nodes.forEach((n, i) => {
    if (n.type === 'modify' || n.type === 'output') return;
    // The last child of a non-terminal chain continues at the same depth, so a long pipeline walk stays flat.
    const more = i < nodes.length - 1 || n.alwaysIndent || isTerminal(n.type) ? 1 : 0;
    const title = n.type === 'pipeline' || n.type === 'transformation';
    const pad = ' '.repeat((level + more) * 4);
    if (title) out.push('');
    out.push(pad + n.name);
    if (title) out.push(pad + '-'.repeat(n.name.length));
    detailed(out, n.subs, level + 2 * more);
  });
}

const withSemicolon = (s: string): string => (s.endsWith(';') ? s : `${s};`);

/** Whether a node has anything under it besides empty tables (hidden nodes count). */
function hasContent(n: TraceNode): boolean {
  return n.subs.some((s) => s.type !== 'table' || hasContent(s));
}

/**
 * `emptyBlock`: whether a block whose children all stay hidden still prints
 * as `name {` … `};` (--summary, when something besides empty tables is under it) or as `name;` (--minimal).
 */
function nested(
  out: string[],
  nodes: readonly TraceNode[],
  level: number,
  shows: (n: TraceNode) => 'line' | 'block' | 'transparent' | 'hidden',
  emptyBlock: boolean,
): void {
  for (const n of nodes) {
    const how = shows(n);
    if (how === 'hidden') continue;
    if (how === 'transparent') {
      nested(out, n.subs, level, shows, emptyBlock);
      continue;
    }
    const pad = ' '.repeat(level * 4);
    if (how === 'line') {
      out.push(n.semicolon ? pad + withSemicolon(n.name) : pad + n.name);
      continue;
    }
    const inner: string[] = [];
    nested(inner, n.subs, level + 1, shows, emptyBlock);
    if (inner.length === 0 && !(emptyBlock && hasContent(n))) out.push(`${pad}${n.name};`);
    else out.push(`${pad}${n.name} {`, ...inner, `${pad}};`);
  }
}

/** The trace in one of ovn-trace's formats, without the leading `# flow` line; lines end with "\n". */
export function formatTrace(nodes: readonly TraceNode[], format: TraceFormat): string {
  if (format === 'all') {
    return `# Detailed trace.\n${formatTrace(nodes, 'detailed')}# Summary trace.\n${formatTrace(nodes, 'summary')}# Minimal trace.\n${formatTrace(nodes, 'minimal')}`;
  }
  const out: string[] = [];
  if (format === 'detailed') detailed(out, nodes, 0);
  else if (format === 'summary') {
    // The summary leaves out `next(N);` (but keeps `next;`), as ovn-trace does.
    const summary = (n: TraceNode): 'line' | 'block' | 'transparent' | 'hidden' =>
      n.type === 'table'
        ? 'transparent'
        : n.type === 'modify' || n.type === 'output' || (n.type === 'action' && n.name.startsWith('next('))
          ? 'hidden'
          : isTerminal(n.type)
            ? 'line'
            : 'block';
    nested(out, nodes, 0, summary, true);
  } else
    nested(
      out,
      nodes,
      0,
      (n) =>
        n.type === 'table' || n.type === 'pipeline'
          ? 'transparent'
          : n.type === 'action'
            ? 'hidden'
            : isTerminal(n.type)
              ? 'line'
              : 'block',
      false,
    );
  return out.map((l) => `${l}\n`).join('');
}
