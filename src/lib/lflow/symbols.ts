/**
 * The symbol table of OVN's match language: fields, subfields and predicates
 * as ovn-sb(5) lists them ("Logical_Flow TABLE", match: "Symbols"), with
 * widths, prerequisites and level of measurement. Register and conntrack
 * overlays follow what the real `ovn-trace` (OVN 23.03) reports for them,
 * e.g. `reg0` is `xxreg0[96..127]` and `ct.est` is `ct_state[1]` with
 * prerequisite `ct.trk`.
 */

/** A packet header or metadata field. Strings have width 0. */
export interface FieldSymbol {
  readonly kind: 'field';
  readonly name: string;
  readonly type: 'integer' | 'string';
  readonly width: number;
  /** Nominal fields support only `==`/`!=`, tested positively (ovn-sb(5) "Level of Measurement"). */
  readonly nominal: boolean;
  /** A match expression implied by any use of the field. */
  readonly prereq?: string;
  /**
   * Who may assign it in actions: absent = any action; `'ro'` = none;
   * `'ct'` = only inside `ct_commit { … }` (ct_mark, ct_label).
   */
  readonly access?: 'ro' | 'ct';
}

/** An alias for bits `lo..hi` of an ordinal field (always ordinal). */
export interface SubfieldSymbol {
  readonly kind: 'subfield';
  readonly name: string;
  readonly field: string;
  readonly lo: number;
  readonly hi: number;
  readonly prereq?: string;
}

/** A named Boolean expression, usable like a 1-bit field. */
export interface PredicateSymbol {
  readonly kind: 'predicate';
  readonly name: string;
  readonly expansion: string;
  readonly prereq?: string;
  /**
   * false: the fields in the expansion add no prerequisites of their own and
   * `prereq` stands for them once (OVN's multicast predicates print that way).
   */
  readonly innerPrereqs?: boolean;
}

export type LflowSymbol = FieldSymbol | SubfieldSymbol | PredicateSymbol;

/** Symbols by name, plus derived facts. Build with `createSymbolTable()`; extend with `add*`. */
export class SymbolTable {
  private readonly syms = new Map<string, LflowSymbol>();
  private readonly nominalCache = new Map<string, boolean>();
  private frozen = false;
  private readonly memos = new Map<string, unknown>();

  /** Caches a value derived from the table (e.g. a parsed predicate expansion); allowed on frozen tables. */
  memo<T>(key: string, make: () => T): T {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const v = make();
    this.memos.set(key, v);
    return v;
  }

  /** Makes the table read-only (the shared default table is frozen). */
  freeze(): this {
    this.frozen = true;
    return this;
  }

  private set(sym: LflowSymbol): void {
    if (this.frozen) throw new Error('symbol table is frozen; use createSymbolTable() for a table of your own');
    this.syms.set(sym.name, sym);
    this.memos.clear();
  }

  get(name: string): LflowSymbol | undefined {
    return this.syms.get(name);
  }

  has(name: string): boolean {
    return this.syms.has(name);
  }

  names(): string[] {
    return [...this.syms.keys()];
  }

  all(): LflowSymbol[] {
    return [...this.syms.values()];
  }

  addField(name: string, width: number, opts: { nominal?: boolean; prereq?: string; access?: 'ro' | 'ct' } = {}): this {
    this.set({
      kind: 'field',
      name,
      type: 'integer',
      width,
      nominal: opts.nominal ?? false,
      ...(opts.prereq !== undefined ? { prereq: opts.prereq } : {}),
      ...(opts.access !== undefined ? { access: opts.access } : {}),
    });
    return this;
  }

  addString(name: string): this {
    this.set({ kind: 'field', name, type: 'string', width: 0, nominal: true });
    return this;
  }

  addSubfield(name: string, field: string, lo: number, hi: number, prereq?: string): this {
    this.set({ kind: 'subfield', name, field, lo, hi, ...(prereq !== undefined ? { prereq } : {}) });
    return this;
  }

  addPredicate(name: string, expansion: string, prereq?: string, innerPrereqs = true): this {
    this.set({
      kind: 'predicate',
      name,
      expansion,
      ...(prereq !== undefined ? { prereq } : {}),
      ...(innerPrereqs ? {} : { innerPrereqs }),
    });
    this.nominalCache.clear();
    return this;
  }

  /** Width in bits of a symbol as used in an expression (predicates are 1 bit; strings 0). */
  width(sym: LflowSymbol): number {
    switch (sym.kind) {
      case 'field':
        return sym.width;
      case 'subfield':
        return sym.hi - sym.lo + 1;
      case 'predicate':
        return 1;
    }
  }

  /**
   * Whether a symbol is nominal: nominal fields and string fields are; a
   * predicate is if its expansion mentions any nominal field or predicate.
   */
  isNominal(sym: LflowSymbol): boolean {
    if (sym.kind === 'field') return sym.nominal;
    if (sym.kind === 'subfield') return false;
    const cached = this.nominalCache.get(sym.name);
    if (cached !== undefined) return cached;
    this.nominalCache.set(sym.name, false); // guards against cycles
    const ids = sym.expansion.match(/[A-Za-z_][A-Za-z0-9_.]*/g) ?? [];
    const r = ids.some((id) => {
      const s = this.syms.get(id);
      return s !== undefined && this.isNominal(s);
    });
    this.nominalCache.set(sym.name, r);
    return r;
  }

  /** Where a field or subfield may be assigned (its base field's `access`); undefined for predicates and unknown names. */
  access(name: string): 'rw' | 'ro' | 'ct' | undefined {
    const st = this.resolveStorage(name);
    return st === undefined ? undefined : (st.field.access ?? 'rw');
  }

  /** The base field and bit offset a field or subfield name refers to. */
  resolveStorage(name: string): { field: FieldSymbol; lo: number; width: number } | undefined {
    const s = this.syms.get(name);
    if (s === undefined) return undefined;
    if (s.kind === 'field') return { field: s, lo: 0, width: s.width };
    if (s.kind === 'subfield') {
      const base = this.resolveStorage(s.field);
      if (base === undefined) return undefined;
      return { field: base.field, lo: base.lo + s.lo, width: s.hi - s.lo + 1 };
    }
    return undefined;
  }
}

/** `flags.*` bits that northd uses (MLF_* in OVN's logical-fields list). */
export const LOGICAL_FLAG_BITS = {
  loopback: 0,
  force_snat_for_dnat: 2,
  force_snat_for_lb: 3,
  skip_snat_for_lb: 9,
  use_snat_zone: 11,
} as const;

/** `ct_state` bits, as `ct_next` sets them. */
export const CT_STATE_BITS = { new: 0, est: 1, rel: 2, rpl: 3, inv: 4, trk: 5, snat: 6, dnat: 7 } as const;

/** OVN 23.03's symbol table for logical flows. */
export function createSymbolTable(): SymbolTable {
  const t = new SymbolTable();

  // Metadata.
  t.addString('inport').addString('outport');
  t.addField('xxreg0', 128).addField('xxreg1', 128);
  for (let i = 0; i < 4; i++) {
    t.addSubfield(`reg${i}`, 'xxreg0', 96 - 32 * i, 127 - 32 * i);
    t.addSubfield(`reg${i + 4}`, 'xxreg1', 96 - 32 * i, 127 - 32 * i);
  }
  t.addSubfield('xreg0', 'xxreg0', 64, 127).addSubfield('xreg1', 'xxreg0', 0, 63);
  t.addSubfield('xreg2', 'xxreg1', 64, 127).addSubfield('xreg3', 'xxreg1', 0, 63);
  t.addField('xreg4', 64);
  t.addSubfield('reg8', 'xreg4', 32, 63).addSubfield('reg9', 'xreg4', 0, 31);
  t.addField('flags', 32);
  for (const [name, bit] of Object.entries(LOGICAL_FLAG_BITS)) t.addSubfield(`flags.${name}`, 'flags', bit, bit);
  t.addField('pkt.mark', 32);

  // Connection tracking.
  t.addField('ct_mark', 32, { access: 'ct' }).addField('ct_label', 128, { access: 'ct' }).addField('ct_state', 32, { access: 'ro' });
  t.addSubfield('ct_mark.blocked', 'ct_mark', 0, 0);
  t.addSubfield('ct_mark.natted', 'ct_mark', 1, 1);
  t.addSubfield('ct_mark.skip_snat', 'ct_mark', 2, 2);
  t.addSubfield('ct_mark.force_snat', 'ct_mark', 3, 3);
  t.addSubfield('ct_mark.ecmp_reply_port', 'ct_mark', 16, 31);
  t.addSubfield('ct_label.blocked', 'ct_label', 0, 0);
  t.addSubfield('ct_label.natted', 'ct_label', 1, 1);
  t.addSubfield('ct_label.force_snat', 'ct_label', 3, 3);
  t.addSubfield('ct_label.ecmp_reply_eth', 'ct_label', 32, 79);
  t.addSubfield('ct_label.ecmp_reply_port', 'ct_label', 80, 95);
  t.addSubfield('ct_label.label', 'ct_label', 96, 127);
  for (const [name, bit] of Object.entries(CT_STATE_BITS)) {
    t.addSubfield(`ct.${name}`, 'ct_state', bit, bit, name === 'trk' ? undefined : 'ct.trk');
  }

  // Ethernet and VLAN.
  t.addField('eth.src', 48).addField('eth.dst', 48).addField('eth.type', 16, { nominal: true, access: 'ro' });
  t.addPredicate('eth.bcast', 'eth.dst == ff:ff:ff:ff:ff:ff');
  t.addPredicate('eth.mcast', 'eth.dst[40]');
  t.addField('vlan.tci', 16);
  t.addPredicate('vlan.present', 'vlan.tci[12]');
  t.addSubfield('vlan.vid', 'vlan.tci', 0, 11, 'vlan.present');
  t.addSubfield('vlan.pcp', 'vlan.tci', 13, 15, 'vlan.present');

  // IP.
  t.addPredicate('ip4', 'eth.type == 0x800');
  t.addPredicate('ip6', 'eth.type == 0x86dd');
  t.addPredicate('ip', 'ip4 || ip6');
  t.addField('ip.proto', 8, { nominal: true, prereq: 'ip', access: 'ro' });
  t.addField('ip.dscp', 6, { nominal: true, prereq: 'ip' });
  t.addField('ip.ecn', 2, { nominal: true, prereq: 'ip' });
  t.addField('ip.ttl', 8, { nominal: true, prereq: 'ip' });
  t.addField('ip.frag', 2, { prereq: 'ip', access: 'ro' });
  t.addPredicate('ip.is_frag', 'ip.frag[0]');
  t.addPredicate('ip.later_frag', 'ip.frag[1]');
  t.addPredicate('ip.first_frag', 'ip.is_frag && !ip.later_frag');
  t.addField('ip4.src', 32, { prereq: 'ip4' }).addField('ip4.dst', 32, { prereq: 'ip4' });
  t.addPredicate('ip4.src_mcast', 'ip4.src[28..31] == 0xe', 'ip4', false);
  t.addPredicate('ip4.mcast', 'eth.mcast && ip4.dst[28..31] == 0xe', 'ip4', false);
  t.addField('ip6.src', 128, { prereq: 'ip6' }).addField('ip6.dst', 128, { prereq: 'ip6' });
  t.addField('ip6.label', 20, { prereq: 'ip6' });
  t.addPredicate('ip6.mcast', 'eth.dst[32..47] == 0x3333 && ip6.dst[120..127] == 0xff', 'ip6', false);
  t.addPredicate('ip6.mcast_rsvd', 'ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0', 'ip6', false);
  t.addPredicate('ip6.mcast_all_nodes', 'ip6.dst == {ff01::1, ff02::1}', 'ip6', false);
  t.addPredicate('icmp4', 'ip4 && ip.proto == 1');
  t.addPredicate('icmp6', 'ip6 && ip.proto == 58');
  t.addPredicate('icmp', 'icmp4 || icmp6');
  t.addField('icmp4.type', 8, { nominal: true, prereq: 'icmp4' });
  t.addField('icmp4.code', 8, { nominal: true, prereq: 'icmp4' });
  t.addField('icmp6.type', 8, { nominal: true, prereq: 'icmp6' });
  t.addField('icmp6.code', 8, { nominal: true, prereq: 'icmp6' });
  t.addPredicate('igmp', 'ip4 && ip.proto == 2');
  t.addPredicate('mldv1', 'ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}');
  t.addPredicate('mldv2', 'ip6.dst == ff02::16 && icmp6.type == 143');

  // ARP / RARP.
  t.addPredicate('arp', 'eth.type == 0x806');
  t.addPredicate('rarp', 'eth.type == 0x8035');
  for (const p of ['arp', 'rarp']) {
    t.addField(`${p}.op`, 16, { nominal: true, prereq: p });
    t.addField(`${p}.spa`, 32, { prereq: p }).addField(`${p}.tpa`, 32, { prereq: p });
    t.addField(`${p}.sha`, 48, { prereq: p }).addField(`${p}.tha`, 48, { prereq: p });
  }

  // IPv6 neighbor discovery.
  t.addPredicate('nd', 'icmp6.type == {135, 136} && icmp6.code == 0 && ip.ttl == 255');
  t.addPredicate('nd_ns', 'icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255');
  t.addPredicate('nd_na', 'icmp6.type == 136 && icmp6.code == 0 && ip.ttl == 255');
  t.addPredicate('nd_rs', 'icmp6.type == 133 && icmp6.code == 0 && ip.ttl == 255');
  t.addPredicate('nd_ra', 'icmp6.type == 134 && icmp6.code == 0 && ip.ttl == 255');
  t.addField('nd.target', 128, { prereq: 'nd' });
  t.addField('nd.sll', 48, { prereq: 'nd_ns' });
  t.addField('nd.tll', 48, { prereq: 'nd_na' });

  // Transport.
  t.addPredicate('tcp', 'ip.proto == 6');
  t.addPredicate('udp', 'ip.proto == 17');
  t.addPredicate('sctp', 'ip.proto == 132');
  t.addField('tcp.src', 16, { prereq: 'tcp' }).addField('tcp.dst', 16, { prereq: 'tcp' });
  t.addField('tcp.flags', 12, { prereq: 'tcp', access: 'ro' });
  t.addField('udp.src', 16, { prereq: 'udp' }).addField('udp.dst', 16, { prereq: 'udp' });
  t.addField('sctp.src', 16, { prereq: 'sctp' }).addField('sctp.dst', 16, { prereq: 'sctp' });
  return t;
}

// A cache of an immutable value, not state: the default table is frozen.
let defaultTable: SymbolTable | undefined;

/** A shared, read-only default table (built on first use). */
export function defaultSymbols(): SymbolTable {
  defaultTable ??= createSymbolTable().freeze();
  return defaultTable;
}
