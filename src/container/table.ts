/**
 * The tables of net-list and endpoint-list, drawn the way the neutron CLI
 * (cliff's table formatter) draws them, since the 2015 tool ran that CLI:
 * `+---+` rules, `| cell |` rows, cells padded to the widest, multi-line
 * cells on continuation rows; nothing at all for no rows.
 */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string>>): string {
  if (rows.length === 0) return '';
  const cellLines = rows.map((r) => r.map((c) => c.split('\n')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cellLines.map((r) => Math.max(...(r[i] ?? ['']).map((l) => l.length)))));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (cells: readonly string[]): string => `|${cells.map((c, i) => ` ${c.padEnd(widths[i]!)} `).join('|')}|`;
  const out = [rule, line(headers), rule];
  for (const r of cellLines) {
    const height = Math.max(...r.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(line(headers.map((_, i) => r[i]?.[k] ?? '')));
  }
  out.push(rule);
  return `${out.join('\n')}\n`;
}
