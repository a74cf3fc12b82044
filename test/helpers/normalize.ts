/**
 * Output normalisation for differential tests: UUIDs differ between two
 * servers by design, so each distinct UUID becomes <0>, <1>, ... in order of
 * first appearance. Rows and sets whose order is the server's hash order are
 * sorted first, so that order of appearance means the same on both sides.
 */
const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

export function normalizeUuids(text: string): string {
  const seen = new Map<string, string>();
  return text.replace(UUID_G, (u) => {
    let n = seen.get(u);
    if (n === undefined) {
      n = `<${seen.size}>`;
      seen.set(u, n);
    }
    return n;
  });
}

const blindKey = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)).replace(UUID_G, 'U');

/** Sorts "rows" arrays of select results by their UUID-blind JSON text. */
export function sortRows(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortRows);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === 'rows' && Array.isArray(v) ? v.map(sortRows).sort((a, b) => (blindKey(a) < blindKey(b) ? -1 : 1)) : sortRows(v);
  }
  return out;
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
