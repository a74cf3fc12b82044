/**
 * Text forms of link-layer and IP addresses held as unsigned bigints: the
 * notation both OVN's logical-flow language and OVS's flow syntax
 * (ovs-fields(7) "Field Formats") use — Ethernet `xx:xx:xx:xx:xx:xx`,
 * dotted-quad IPv4, RFC 4291 IPv6 printed as inet_ntop(3) does, CIDR masks.
 */

/** Parses a dotted-quad IPv4 address; undefined if `s` is not one. */
export function parseIpv4(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

/** Parses a colon-separated Ethernet address (6 groups of 1–2 hex digits). */
export function parseMac(s: string): bigint | undefined {
  const parts = s.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) return undefined;
  return parts.reduce((v, p) => (v << 8n) | BigInt(parseInt(p, 16)), 0n);
}

/** Parses an IPv6 address in any RFC 4291 text form (including `::` and a trailing dotted quad). */
export function parseIpv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return undefined;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseIpv4(last);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const parseGroups = (t: string): number[] | undefined => {
    if (t === '') return [];
    const out: number[] = [];
    for (const g of t.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    if (text.indexOf('::', dbl + 1) >= 0) return undefined;
    const head = parseGroups(text.slice(0, dbl));
    const rest = parseGroups(text.slice(dbl + 2));
    if (!head || !rest) return undefined;
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    const all = parseGroups(text);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  return groups.reduce((v, g) => (v << 16n) | BigInt(g), 0n);
}

/** Formats a 32-bit value as a dotted quad. */
export function formatIpv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

/** Formats a 48-bit value as `xx:xx:xx:xx:xx:xx`. */
export function formatMac(v: bigint): string {
  return [40n, 32n, 24n, 16n, 8n, 0n].map((s) => ((v >> s) & 0xffn).toString(16).padStart(2, '0')).join(':');
}

/** Formats a 128-bit value in RFC 5952 canonical IPv6 text (as glibc's inet_ntop does). */
export function formatIpv6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) addresses end in a dotted quad, as inet_ntop prints them.
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
    return `::${bestLen === 5 ? 'ffff:' : ''}${formatIpv4(v & 0xffffffffn)}`;
  }
  if (bestLen < 2) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** The prefix length of a CIDR mask of width `w`, or undefined if the mask is not a prefix. */
export function prefixLength(mask: bigint, w: number): number | undefined {
  for (let n = 0; n <= w; n++) if (prefixMask(n, w) === mask) return n;
  return undefined;
}

export function prefixMask(n: number, w: number): bigint {
  const all = (1n << BigInt(w)) - 1n;
  return n === 0 ? 0n : (all >> BigInt(w - n)) << BigInt(w - n);
}
