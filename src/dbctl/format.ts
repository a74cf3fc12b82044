/**
 * db-ctl table output (ovs-vsctl(8) "Table Formatting Options"): `--format=list|table|csv|json`,
 * `--data=string|bare|json`, `--no-headings`, `--bare`.
 */
import { datumToJson, type Datum } from '../ovsdb/datum.js';
import type { ColumnType } from '../ovsdb/schema.js';
import { datumToBare, datumToText } from './values.js';

export type OutputFormat = 'list' | 'table' | 'csv' | 'json' | 'html';
export type DataFormat = 'string' | 'bare' | 'json';

export interface FormatOptions {
  format: OutputFormat;
  /** Undefined: the format's default (json for --format=json, else string). */
  data: DataFormat | undefined;
  headings: boolean;
}

export interface Cell {
  readonly datum: Datum;
  readonly type: ColumnType;
}

export interface OutTable {
  readonly headings: readonly string[];
  readonly rows: Cell[][];
}

function cellText(c: Cell, data: DataFormat): string {
  switch (data) {
    case 'string':
      return datumToText(c.datum, c.type);
    case 'bare':
      return datumToBare(c.datum, c.type);
    case 'json':
      return JSON.stringify(datumToJson(c.datum, c.type));
  }
}

function csvQuote(s: string): string {
  return /[,"\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Text width as a terminal shows it: code points. */
function width(s: string): number {
  return Buffer.byteLength(s);
}

export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Renders a table of results. */
export function formatTable(t: OutTable, o: FormatOptions): string {
  const data: DataFormat = o.format === 'json' ? 'json' : (o.data ?? 'string');
  switch (o.format) {
    case 'list': {
      const recs = t.rows.map((row) =>
        row
          .map((c, i) => {
            const v = cellText(c, data);
            return o.headings ? `${(t.headings[i] ?? '').padEnd(20)}: ${v}\n` : `${v}\n`;
          })
          .join(''),
      );
      return recs.join('\n');
    }
    case 'table': {
      const cells = t.rows.map((row) => row.map((c) => cellText(c, data)));
      const n = t.headings.length;
      const w: number[] = [];
      for (let i = 0; i < n; i++) {
        let m = o.headings ? width(t.headings[i] ?? '') : 0;
        for (const r of cells) m = Math.max(m, width(r[i] ?? ''));
        w.push(m);
      }
      const line = (vals: string[]): string =>
        vals
          .map((v, i) => (i === n - 1 ? v : v + ' '.repeat((w[i] ?? 0) - width(v))))
          .join(' ')
          .trimEnd() + '\n';
      let out = '';
      if (o.headings && n > 0) {
        out += line([...t.headings]);
        out += line(w.map((x) => '-'.repeat(x)));
      }
      for (const r of cells) out += line(r);
      return out;
    }
    case 'csv': {
      let out = '';
      if (o.headings) out += t.headings.map(csvQuote).join(',') + '\n';
      for (const r of t.rows) out += r.map((c) => csvQuote(cellText(c, data))).join(',') + '\n';
      return out;
    }
    case 'json': {
      const rows = t.rows.map(
        (r) => `[${r.map((c) => (data === 'json' ? cellText(c, 'json') : JSON.stringify(cellText(c, data)))).join(',')}]`,
      );
      let out = `{"data":[${rows.join(',')}]`;
      if (o.headings) out += `,"headings":[${t.headings.map((h) => JSON.stringify(h)).join(',')}]`;
      return out + '}\n';
    }
    case 'html': {
      let out = '<table>\n';
      if (o.headings) out += `  <tr>\n${t.headings.map((h) => `    <th>${htmlEscape(h)}</th>\n`).join('')}  </tr>\n`;
      for (const r of t.rows) out += `  <tr>\n${r.map((c) => `    <td>${htmlEscape(cellText(c, data))}</td>\n`).join('')}  </tr>\n`;
      return out + '</table>\n';
    }
  }
}
