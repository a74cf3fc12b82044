/**
 * Makes two Neutron servers' outputs comparable: what differs between them by
 * design (ids, timestamps, revision numbers, addresses and MACs picked at
 * random, the noauth project) becomes a placeholder, the same way on both sides.
 *
 * Ids are named after the resource they belong to (`<port:vm1>`, or
 * `<port#3>` for an unnamed one, numbered in the order the corpus created
 * them), so a placeholder means the same resource on both sides whatever order
 * a server lists things in. Lists are compared as sets (sorted rows): real
 * Neutron's order follows its random ids.
 */

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** Neutron's base MAC is fa:16:3e; those are allocated at random. */
const RANDOM_MAC = /fa:16:3e(?::[0-9a-f]{2}){3}/g;
const TIMESTAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?/g;

/**
 * Fields whose values differ by design:
 * - revision_number: bumped by every internal update Neutron makes (e.g. ML2/OVN's
 *   own post-commit updates); the API contract is only that it grows.
 * - provider:segmentation_id: the geneve VNI, allocated at random by real Neutron.
 * - security_groups / security_group_ids: ovnts implements no security groups
 *   (real Neutron gives every port its project's default group).
 */
const VARYING_FIELDS: Readonly<Record<string, string>> = {
  revision_number: '<rev>',
  'provider:segmentation_id': '<vni>',
  security_groups: '<security-groups>',
  security_group_ids: '<security-groups>',
};

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One server's mapping from literal values to placeholders. */
export class Normalizer {
  private readonly literals = new Map<string, string>();
  private readonly byPlaceholder = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  private pattern: RegExp | undefined;

  private readonly project: RegExp;

  constructor(
    private readonly port: number,
    projectIds: readonly string[],
  ) {
    // A project id may be a plain word ("admin"): match whole words only, not admin_state_up.
    this.project = new RegExp(`(?<![\\w-])(?:${projectIds.map(escapeRe).join('|')})(?![\\w-])`, 'g');
  }

  /** Names `value` `placeholder` unless it already has a name; returns its name. */
  name(value: string, placeholder: string): string {
    const had = this.literals.get(value);
    if (had !== undefined) return had;
    this.literals.set(value, placeholder);
    this.byPlaceholder.set(placeholder, value);
    this.pattern = undefined;
    return placeholder;
  }

  known(value: string): boolean {
    return this.literals.has(value);
  }

  /** The next `<kind#N>`. */
  next(kind: string): string {
    const n = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, n);
    return `<${kind}#${n}>`;
  }

  /** The literal behind a placeholder (e.g. the real id of `<port:vm1>`). */
  literal(placeholder: string): string | undefined {
    return this.byPlaceholder.get(placeholder);
  }

  private literalPattern(): RegExp | undefined {
    if (this.literals.size === 0) return undefined;
    if (this.pattern === undefined) {
      const alts = [...this.literals.keys()].sort((a, b) => b.length - a.length).map(escapeRe);
      // Whole tokens: not inside a longer address (192.168.1.7 in 192.168.1.79), but
      // within names such as neutron-<id>, lrp-<id> or pg_<id>.
      this.pattern = new RegExp(`(?<![0-9A-Za-z.:])(?:${alts.join('|')})(?![0-9A-Za-z:]|\\.[0-9A-Za-z])`, 'g');
    }
    return this.pattern;
  }

  /** Replaces every known literal, then names unknown UUIDs and random MACs in order of appearance. */
  text(s: string): string {
    let out = s.replaceAll(`127.0.0.1:${this.port}`, '127.0.0.1:<port>').replace(this.project, '<project>');
    const re = this.literalPattern();
    if (re) out = out.replace(re, (m) => this.literals.get(m) ?? m);
    // Request ids (neutronclient prints them with an error) are new per request.
    out = out.replace(/req-[0-9a-f]{8}-[0-9a-f-]{27}/g, 'req-<request-id>');
    out = out.replace(UUID, (u) => this.name(u, this.next('uuid')));
    out = out.replace(RANDOM_MAC, (m) => this.name(m, this.next('mac')));
    // Messages listing ids ("ports still attached: A, B") follow the database's
    // order, which real Neutron takes from its random ids: compare them as sets
    // (the separator still counts).
    out = out.replace(/<[^<>\s,]+>(?:, ?<[^<>\s,]+>)+/g, (m) =>
      m
        .split(/(?<=>)(, ?)/)
        .filter((_, i) => i % 2 === 0)
        .sort()
        .join(m.includes(', ') ? ', ' : ','),
    );
    return out.replace(TIMESTAMP, '<time>');
  }

  /** Normalises a value parsed from JSON: varying fields first, then every string. */
  value(v: unknown, key?: string): unknown {
    if (key !== undefined && key in VARYING_FIELDS && v !== null) return VARYING_FIELDS[key];
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x)).sort(byJson);
    if (typeof v === 'object' && v !== null) {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) o[k] = this.value((v as Record<string, unknown>)[k], k);
      return o;
    }
    return v;
  }

  /** A CLI's stdout or stderr: JSON re-serialised normalised, tables with their rows sorted. */
  output(s: string): string {
    const t = s.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return JSON.stringify(this.value(JSON.parse(t)), null, 1);
      } catch {
        /* not JSON after all */
      }
    }
    return normalizeTables(this.text(s));
  }
}

function byJson(a: unknown, b: unknown): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Table output (cliff's and neutronclient's): column widths follow the values'
 * lengths, which placeholders change, so runs of spaces and dashes collapse;
 * rows of a list table are sorted (a row is a line with a first cell plus its
 * continuation lines); a `| field | value |` row of a varying field loses its value.
 */
export function normalizeTables(s: string): string {
  const lines = s.split('\n').map((l) => (l.startsWith('+') ? l.replace(/-+/g, '-') : l.startsWith('|') ? l.replace(/ +/g, ' ') : l));
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (!line.startsWith('|')) {
      out.push(line);
      i++;
      continue;
    }
    // A block of | lines between two + borders.
    const block: string[] = [];
    while (i < lines.length && (lines[i] ?? '').startsWith('|')) block.push(lines[i++] ?? '');
    const rows: string[][] = [];
    for (const l of block) {
      const first = l.split('|')[1]?.trim() ?? '';
      const fieldRow = /^\| ([\w:]+) \| /.exec(l);
      const varying = fieldRow?.[1] !== undefined ? VARYING_FIELDS[fieldRow[1]] : undefined;
      const shown = varying !== undefined && fieldRow !== null ? `| ${fieldRow[1]} | ${varying} |` : l;
      if (first !== '' || rows.length === 0) rows.push([shown]);
      else if (varying === undefined && !isVaryingContinuation(rows)) rows[rows.length - 1]?.push(shown);
    }
    // A header block is one row; a `show` table is already in field order.
    for (const r of rows.sort((a, b) => (a.join('\n') < b.join('\n') ? -1 : 1))) out.push(...r);
  }
  return out.join('\n');
}

/** A continuation line of a varying field's multi-line value (e.g. several security groups). */
function isVaryingContinuation(rows: readonly string[][]): boolean {
  const last = rows[rows.length - 1]?.[0] ?? '';
  return Object.values(VARYING_FIELDS).some((v) => last.endsWith(` | ${v} |`));
}
