/**
 * Output normalisation for differential tests: UUIDs differ between two
 * servers by design, so each distinct UUID becomes <0>, <1>, ... in order of
 * first appearance. Rows and sets whose order is the server's hash order are
 * sorted first, so that order of appearance means the same on both sides.
 */
const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

export function normalizeUuids(text: string, seen: Map<string, string> = new Map()): string {
  return text.replace(UUID_G, (u) => {
    let n = seen.get(u);
    if (n === undefined) {
      n = `<${seen.size}>`;
      seen.set(u, n);
    }
    return n;
  });
}

const jsonText = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));

/**
 * UUIDs in order of first appearance outside select rows (insert results,
 * error details, updates): the same on both sides when the rest is, so rows
 * that differ only in UUIDs can be put in the same order by them. Added to
 * `known` when given (a transcript taken reply by reply).
 */
export function knownUuids(value: unknown, known: Map<string, number> = new Map()): Map<string, number> {
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const u of v.match(UUID_G) ?? []) if (!known.has(u)) known.set(u, known.size);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        for (const u of k.match(UUID_G) ?? []) if (!known.has(u)) known.set(u, known.size);
        if (k !== 'rows') walk(x);
      }
    }
  };
  walk(value);
  return known;
}

const isUuidSet = (v: unknown): v is ['set', Array<['uuid', string]>] =>
  Array.isArray(v) &&
  v.length === 2 &&
  v[0] === 'set' &&
  Array.isArray(v[1]) &&
  v[1].length > 1 &&
  v[1].every((a: unknown) => Array.isArray(a) && a.length === 2 && a[0] === 'uuid' && typeof a[1] === 'string');

/**
 * Puts what ovsdb-server orders by random UUIDs in an order both sides
 * share: "rows" arrays of select results (hash order) by their UUID-blind
 * JSON text, then, for rows equal but for UUIDs, by the UUIDs' `known`
 * numbers (a row's `_uuid` is always known from its insert's result;
 * unknown ones, a new `_version`, do not count); and sets of UUIDs (UUID
 * order) by those numbers.
 */
export function sortRows(value: unknown, known: ReadonlyMap<string, number> = new Map()): unknown {
  const key = (v: unknown): string => {
    const text = jsonText(v);
    return `${text.replace(UUID_G, 'U')} ${text.replace(UUID_G, (u) => String(known.get(u) ?? 'U'))}`;
  };
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const uuidOrder = (a: unknown, b: unknown): number => {
    const n = (x: unknown): number => known.get((x as [string, string])[1]) ?? Infinity;
    const [x, y] = [n(a), n(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const sort = (value: unknown): unknown => {
    // A set of UUIDs is in UUID order on the wire: put it in the order they became known.
    if (isUuidSet(value)) return ['set', [...value[1]].sort(uuidOrder)];
    if (Array.isArray(value)) return value.map(sort);
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === 'rows' && Array.isArray(v) ? v.map(sort).sort((a, b) => cmp(key(a), key(b))) : sort(v);
    }
    return out;
  };
  return sort(value);
}

/** Normalises the JSON text that `ovsdb-client transact` prints. */
export function normalizeTransactOutput(stdout: string): string {
  const t = stdout.trim();
  if (t === '') return t;
  try {
    return normalizeUuids(JSON.stringify(sortRows(JSON.parse(t))));
  } catch {
    return normalizeUuids(t);
  }
}
