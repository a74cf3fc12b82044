/**
 * List queries as Neutron takes them: any attribute as a filter (a repeated
 * key matches any of its values; `fixed_ips=ip_address=A` and
 * `fixed_ips=subnet_id=S` look inside the list), and repeated `fields=`
 * choosing the attributes returned.
 */
import { badRequest } from './errors.js';

/** Query keys that are not filters (pagination, sorting, field selection). */
const NOT_FILTERS = new Set(['fields', 'limit', 'marker', 'page_reverse', 'sort_key', 'sort_dir', 'verbose']);

export type Query = Readonly<Record<string, string | readonly string[] | undefined>>;

function values(v: string | readonly string[] | undefined): readonly string[] {
  return v === undefined ? [] : typeof v === 'string' ? [v] : v;
}

function matches(actual: unknown, wanted: string): boolean {
  if (actual === null || actual === undefined) return wanted === '' || wanted === 'None';
  if (typeof actual === 'boolean')
    return String(actual) === wanted.toLowerCase() || (wanted === '1' && actual) || (wanted === '0' && !actual);
  if (typeof actual === 'number') return String(actual) === wanted;
  if (typeof actual === 'string') return actual === wanted;
  return false;
}

function matchesList(actual: unknown, wanted: string): boolean {
  if (!Array.isArray(actual)) return false;
  const eq = wanted.indexOf('=');
  if (eq > 0) {
    const k = wanted.slice(0, eq);
    const v = wanted.slice(eq + 1);
    return actual.some((x) => typeof x === 'object' && x !== null && matches((x as Record<string, unknown>)[k], v));
  }
  return actual.some((x) => matches(x, wanted));
}

/** The items the query's filters keep, reduced to its fields. */
export function applyQuery(items: readonly Record<string, unknown>[], query: Query): Record<string, unknown>[] {
  const filters: Array<[string, readonly string[]]> = [];
  const known = items[0];
  for (const [k, v] of Object.entries(query)) {
    if (NOT_FILTERS.has(k)) continue;
    if (known !== undefined && !(k in known)) throw badRequest(`['${k}'] is invalid attribute for filtering`);
    filters.push([k, values(v)]);
  }
  const out = items.filter((it) =>
    filters.every(([k, vs]) => {
      const a = it[k];
      return vs.some((w) => (Array.isArray(a) ? matchesList(a, w) : matches(a, w)));
    }),
  );
  return out.map((it) => selectFields(it, query));
}

/** The object reduced to the query's `fields=` (all of it when none is given). */
export function selectFields(item: Record<string, unknown>, query: Query): Record<string, unknown> {
  const fields = values(query['fields']).filter((f) => f !== '');
  if (fields.length === 0) return item;
  // In the resource's attribute order, as Neutron returns them.
  return Object.fromEntries(Object.entries(item).filter(([k]) => fields.includes(k)));
}
