/**
 * ovn-nbctl's OVN commands (ovn-nbctl(8) "Logical Switch Commands", "Logical
 * Switch Port Commands", "Logical Router Commands", "DHCP Options commands",
 * "ACL Commands", "Port Group commands", "General Commands").
 */
import type { Atom, Datum } from '../ovsdb/datum.js';
import { UUID_RE } from '../ovsdb/datum.js';
import { CtlError, type CmdContext, type CommandSpec, type Reads } from './ctl.js';
import { atomToText } from './values.js';
import type { WRow } from './work-db.js';
import { isDynamicAddress, parseIpv4Cidr, parseIpv6Cidr, parseNetwork, scanMac } from './addr-scan.js';
import { setColumn } from './db-commands.js';
import { formatIpv6 } from '../lib/address-text.js';

const str = (s: string): Datum => ({ keys: [s] });
const strs = (xs: readonly string[]): Datum => ({ keys: [...new Set(xs)].sort() });
const STRING = { type: 'string' } as const;

function mapOf(pairs: Array<[string, string]>): Datum {
  const m = new Map<string, string>();
  for (const [k, v] of pairs) m.set(k, v);
  const keys = [...m.keys()].sort();
  return { keys, values: keys.map((k) => m.get(k) as string) };
}

function addRef(row: WRow, col: string, uuid: string): void {
  const d = row.get(col);
  if (d.keys.includes(uuid)) return;
  row.set(col, { keys: [...d.keys, uuid].sort() });
}

function removeRef(row: WRow, col: string, uuid: string): void {
  const d = row.get(col);
  row.set(col, { keys: d.keys.filter((k) => k !== uuid) });
}

/** A record by UUID or by name; `what` words the error ("switch", "port", "router"). */
function byNameOrUuid(ctx: CmdContext, table: string, id: string, what: string, mustExist: boolean): WRow | undefined {
  if (UUID_RE.test(id)) {
    const r = ctx.db.get(table, id.toLowerCase());
    if (r !== undefined) return r;
  }
  const rows = ctx.db.lookup(table, 'name', id);
  if (rows.length > 1) {
    const plural: Record<string, string> = { switch: 'logical switches', router: 'logical routers', port: 'logical switch ports' };
    throw new CtlError(`Multiple ${plural[what] ?? what} named '${id}'.  Use a UUID.`);
  }
  if (rows[0] === undefined && mustExist) throw new CtlError(`${id}: ${what} name not found`);
  return rows[0];
}

const ls = (ctx: CmdContext, id: string, must = true): WRow | undefined => byNameOrUuid(ctx, 'Logical_Switch', id, 'switch', must);
const lr = (ctx: CmdContext, id: string, must = true): WRow | undefined => byNameOrUuid(ctx, 'Logical_Router', id, 'router', must);
const lsp = (ctx: CmdContext, id: string, must = true): WRow | undefined => byNameOrUuid(ctx, 'Logical_Switch_Port', id, 'port', must);
const lrp = (ctx: CmdContext, id: string, must = true): WRow | undefined => byNameOrUuid(ctx, 'Logical_Router_Port', id, 'port', must);

function switchOfPort(ctx: CmdContext, port: WRow): WRow | undefined {
  return ctx.db.lookup('Logical_Switch', 'ports', port.uuid)[0];
}
function routerOfPort(ctx: CmdContext, port: WRow): WRow | undefined {
  return ctx.db.lookup('Logical_Router', 'ports', port.uuid)[0];
}

function listByName(ctx: CmdContext, rows: Iterable<WRow>): void {
  const items = [...rows].map((r) => ({ name: r.str('name'), uuid: r.uuid }));
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  for (const i of items) ctx.print(`${i.uuid} (${i.name})\n`);
}

function parseIpv4(s: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m === null) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : undefined;
}

function isIpv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return false;
  const dbl = s.split('::');
  if (dbl.length > 2) return false;
  const groups = s.split(':').filter((g) => g !== '');
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g) && parseIpv4(g) === undefined)) return false;
  return dbl.length === 2 ? groups.length < 8 : groups.length === 8;
}

function ipWithPlen(s: string): { v4?: string; v6?: string } | undefined {
  const [ip, plen, extra] = s.split('/');
  if (extra !== undefined || ip === undefined) return undefined;
  if (parseIpv4(ip) !== undefined) {
    if (plen !== undefined && (!/^\d+$/.test(plen) || Number(plen) > 32)) return undefined;
    return { v4: ip };
  }
  if (isIpv6(ip)) {
    if (plen !== undefined && (!/^\d+$/.test(plen) || Number(plen) > 128)) return undefined;
    return { v6: ip.toLowerCase() };
  }
  return undefined;
}

/** Validates one lsp-set-addresses argument; returns its IPs. */
function checkAddress(a: string): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  if (a === 'unknown' || a === 'router' || isDynamicAddress(a)) return { v4, v6 };
  // As ovn-nbctl: the entry must begin with an Ethernet address; the IPs after
  // it are read up to the first word that is not one, and the rest is ignored.
  const mac = scanMac(a);
  if (mac === undefined) {
    throw new CtlError(
      `${a}: Invalid address format. See ovn-nb(5). Hint: An Ethernet address must be listed before an IP address, together as a single argument.`,
    );
  }
  for (const ip of a
    .slice(mac.end)
    .split(/\s+/)
    .filter((w) => w !== '')) {
    const p = ipWithPlen(ip);
    if (p === undefined) break;
    if (p.v4 !== undefined) v4.push(p.v4);
    else if (p.v6 !== undefined) v6.push(p.v6);
  }
  return { v4, v6 };
}

function ipsOf(addresses: readonly Atom[]): { v4: Set<string>; v6: Set<string> } {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const a of addresses) {
    const words = String(a).split(/\s+/);
    for (const w of words.slice(1)) {
      const p = ipWithPlen(w);
      if (p?.v4 !== undefined) v4.add(p.v4);
      if (p?.v6 !== undefined) v6.add(p.v6);
    }
  }
  return { v4, v6 };
}

const LSP_TYPES = ['', 'router', 'localnet', 'localport', 'l2gateway', 'vtep', 'external', 'virtual', 'remote'];
const ACL_ACTIONS = ['allow', 'allow-related', 'allow-stateless', 'drop', 'reject'];

function parseCidr4(s: string): boolean {
  const [ip, plen, extra] = s.split('/');
  if (extra !== undefined || ip === undefined || parseIpv4(ip) === undefined) return false;
  return plen === undefined || (/^\d+$/.test(plen) && Number(plen) <= 32);
}
function parseCidr(s: string): boolean {
  if (parseCidr4(s)) return true;
  const [ip, plen, extra] = s.split('/');
  if (extra !== undefined || ip === undefined || !isIpv6(ip)) return false;
  return plen === undefined || (/^\d+$/.test(plen) && Number(plen) <= 128);
}

function setKv(ctx: CmdContext, row: WRow, col: string, args: readonly string[]): void {
  const pairs: Array<[string, string]> = [];
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq < 0) continue;
    pairs.push([a.slice(0, eq), a.slice(eq + 1)]);
  }
  row.set(col, mapOf(pairs));
  void ctx;
}

function printKv(ctx: CmdContext, d: Datum): void {
  const vs = d.values ?? [];
  d.keys.forEach((k, i) => ctx.print(`${String(k)}=${String(vs[i])}\n`));
}

function cmd(
  name: string,
  minArgs: number,
  maxArgs: number,
  reads: Reads,
  run: (ctx: CmdContext) => void,
  options: readonly string[] = [],
): CommandSpec {
  return { name, minArgs, maxArgs, options, reads, run };
}

// What each command reads (ovn-nbctl's pre_* functions), by family.
const SWITCHES: Reads = { Logical_Switch: true, Logical_Switch_Port: true };
const ROUTERS: Reads = { Logical_Router: true, Logical_Router_Port: true };
const DHCP: Reads = { DHCP_Options: true };
const LSP_DHCP: Reads = { ...SWITCHES, ...DHCP };
const ROUTES: Reads = { ...ROUTERS, Logical_Router_Static_Route: true };
const ACLS: Reads = { ...SWITCHES, Port_Group: true, ACL: true };
const PORT_GROUPS: Reads = { Port_Group: true, Logical_Switch_Port: ['name'] };
const SHOW: Reads = { ...SWITCHES, ...ROUTERS };
const NONE: Reads = {};

function printSwitch(ctx: CmdContext, s: WRow): void {
  ctx.print(`switch ${s.uuid} (${s.str('name')})\n`);
  for (const pu of s.get('ports').keys) {
    const p = ctx.db.get('Logical_Switch_Port', String(pu));
    if (p === undefined) continue;
    ctx.print(`    port ${p.str('name')}\n`);
    const type = p.str('type');
    if (type !== '') ctx.print(`        type: ${type}\n`);
    const parent = p.get('parent_name').keys[0];
    if (parent !== undefined) ctx.print(`        parent: ${String(parent)}\n`);
    const tag = p.get('tag').keys[0];
    if (tag !== undefined) ctx.print(`        tag: ${String(tag)}\n`);
    const addrs = p.get('addresses').keys;
    if (addrs.length > 0 && !addrs.every((a) => a === 'router')) {
      ctx.print(`        addresses: [${addrs.map((a) => JSON.stringify(a)).join(', ')}]\n`);
    }
    if (type === 'router') {
      const opts = p.get('options');
      const i = opts.keys.indexOf('router-port');
      if (i >= 0) ctx.print(`        router-port: ${String(opts.values?.[i])}\n`);
    }
  }
}

function printRouter(ctx: CmdContext, r: WRow): void {
  ctx.print(`router ${r.uuid} (${r.str('name')})\n`);
  for (const pu of r.get('ports').keys) {
    const p = ctx.db.get('Logical_Router_Port', String(pu));
    if (p === undefined) continue;
    ctx.print(`    port ${p.str('name')}\n`);
    ctx.print(`        mac: ${JSON.stringify(p.str('mac'))}\n`);
    const nets = p.get('networks').keys;
    if (nets.length > 0) ctx.print(`        networks: [${nets.map((a) => JSON.stringify(a)).join(', ')}]\n`);
  }
}

export const NB_OVN_COMMANDS: readonly CommandSpec[] = [
  cmd('show', 0, 1, SHOW, (ctx) => {
    if (ctx.args.length === 1) {
      const s = ls(ctx, ctx.arg(0), false);
      if (s !== undefined) printSwitch(ctx, s);
      const r = lr(ctx, ctx.arg(0), false);
      if (r !== undefined) printRouter(ctx, r);
      return;
    }
    for (const s of ctx.db.rows('Logical_Switch')) printSwitch(ctx, s);
    for (const r of ctx.db.rows('Logical_Router')) printRouter(ctx, r);
  }),

  // Logical switches.
  cmd(
    'ls-add',
    0,
    1,
    { Logical_Switch: ['name'] },
    (ctx) => {
      if (ctx.has('--may-exist') && ctx.has('--add-duplicate'))
        throw new CtlError('--may-exist and --add-duplicate may not be used together');
      const name = ctx.args[0];
      if (name !== undefined && !ctx.has('--add-duplicate')) {
        if (ls(ctx, name, false) !== undefined) {
          if (ctx.has('--may-exist')) return;
          throw new CtlError(`${name}: a switch with this name already exists`);
        }
      }
      ctx.db.insert('Logical_Switch', name !== undefined ? { name: str(name) } : {});
    },
    ['--may-exist', '--add-duplicate'],
  ),
  cmd(
    'ls-del',
    1,
    1,
    SWITCHES,
    (ctx) => {
      const s = ls(ctx, ctx.arg(0), !ctx.has('--if-exists'));
      if (s !== undefined) ctx.db.delete(s);
    },
    ['--if-exists'],
  ),
  cmd('ls-list', 0, 0, SWITCHES, (ctx) => listByName(ctx, ctx.db.rows('Logical_Switch'))),

  // sync changes nothing itself; --wait=sb|hv needs a transaction to bump nb_cfg in, so it rewrites nb_cfg unchanged.
  cmd('sync', 0, 0, NONE, (ctx) => {
    if (ctx.globals.wait === 'none') return;
    for (const g of ctx.db.rows('NB_Global')) g.set('nb_cfg', g.get('nb_cfg'));
  }),

  // Logical switch ports.
  cmd(
    'lsp-add',
    2,
    4,
    { Logical_Switch: ['name', 'ports'], Logical_Switch_Port: ['name', 'parent_name', 'tag_request'] },
    (ctx) => {
      const s = ls(ctx, ctx.arg(0)) as WRow;
      const name = ctx.arg(1);
      let parent: string | undefined;
      let tag: number | undefined;
      if (ctx.args.length === 3) throw new CtlError('lsp-add with parent must also specify a tag');
      if (ctx.args.length === 4) {
        parent = ctx.arg(2);
        const t = ctx.arg(3);
        if (!/^\d+$/.test(t) || Number(t) > 4095) throw new CtlError(`${t}: invalid tag (must be in range 0 to 4095)`);
        tag = Number(t);
      }
      const existing = lsp(ctx, name, false);
      if (existing !== undefined) {
        if (!ctx.has('--may-exist')) throw new CtlError(`${name}: a port with this name already exists`);
        const sw = switchOfPort(ctx, existing);
        if (sw === undefined || sw.uuid !== s.uuid) {
          throw new CtlError(`${name}: port already exists but in switch ${sw?.str('name') ?? ''}`);
        }
        const curParent = existing.get('parent_name').keys[0];
        if (parent !== undefined) {
          if (curParent === undefined) throw new CtlError(`${name}: port already exists but has no parent`);
          if (curParent !== parent) throw new CtlError(`${name}: port already exists with different parent ${String(curParent)}`);
          const curReq = existing.get('tag_request').keys[0];
          if (tag !== undefined && tag !== 0 && curReq !== tag) {
            throw new CtlError(`${name}: port already exists with different tag_request ${String(curReq ?? 0)}`);
          }
        } else if (curParent !== undefined) {
          throw new CtlError(`${name}: port already exists but has parent ${String(curParent)}`);
        }
        return;
      }
      const cols: Record<string, Datum> = { name: str(name) };
      if (parent !== undefined && tag !== undefined) {
        cols['parent_name'] = str(parent);
        cols['tag_request'] = { keys: [tag] };
      }
      const p = ctx.db.insert('Logical_Switch_Port', cols);
      addRef(s, 'ports', p.uuid);
    },
    ['--may-exist'],
  ),
  cmd(
    'lsp-del',
    1,
    1,
    SWITCHES,
    (ctx) => {
      const p = lsp(ctx, ctx.arg(0), !ctx.has('--if-exists'));
      if (p === undefined) return;
      const s = switchOfPort(ctx, p);
      if (s === undefined) throw new CtlError(`logical port ${ctx.arg(0)} is not part of any logical switch`);
      removeRef(s, 'ports', p.uuid);
      ctx.db.delete(p);
    },
    ['--if-exists'],
  ),
  cmd('lsp-list', 1, 1, SWITCHES, (ctx) => {
    const s = ls(ctx, ctx.arg(0)) as WRow;
    listByName(
      ctx,
      s
        .get('ports')
        .keys.map((u) => ctx.db.get('Logical_Switch_Port', String(u)))
        .filter((r): r is WRow => r !== undefined),
    );
  }),
  cmd('lsp-get-parent', 1, 1, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    const v = p.get('parent_name').keys[0];
    if (v !== undefined) ctx.print(`${String(v)}\n`);
  }),
  cmd('lsp-get-tag', 1, 1, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    const v = p.get('tag').keys[0];
    if (v !== undefined) ctx.print(`${String(v)}\n`);
  }),
  cmd('lsp-set-addresses', 1, Infinity, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    const addrs = ctx.args.slice(1);
    const sw = switchOfPort(ctx, p);
    for (const a of addrs) {
      const { v4, v6 } = checkAddress(a);
      if (sw === undefined || (v4.length === 0 && v6.length === 0)) continue;
      for (const pu of sw.get('ports').keys) {
        if (pu === p.uuid) continue;
        const other = ctx.db.get('Logical_Switch_Port', String(pu));
        if (other === undefined) continue;
        const ips = ipsOf([...other.get('addresses').keys, ...other.get('dynamic_addresses').keys]);
        for (const ip of v4) {
          if (ips.v4.has(ip))
            throw new CtlError(
              `Error on switch ${sw.str('name')}: duplicate IPv4 address '${ip}' found on logical switch port '${other.str('name')}'`,
            );
        }
        for (const ip of v6) {
          if (ips.v6.has(ip))
            throw new CtlError(
              `Error on switch ${sw.str('name')}: duplicate IPv6 address '${ip}' found on logical switch port '${other.str('name')}'`,
            );
        }
      }
    }
    p.set('addresses', strs(addrs));
  }),
  cmd('lsp-get-addresses', 1, 1, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    for (const a of p.get('addresses').keys) ctx.print(`${String(a)}\n`);
  }),
  cmd('lsp-set-port-security', 1, Infinity, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    p.set('port_security', strs(ctx.args.slice(1)));
  }),
  cmd('lsp-get-port-security', 1, 1, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    for (const a of p.get('port_security').keys) ctx.print(`${String(a)}\n`);
  }),
  cmd('lsp-get-up', 1, 1, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    ctx.print(p.get('up').keys[0] === true ? 'up\n' : 'down\n');
  }),
  cmd('lsp-set-enabled', 2, 2, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    p.set('enabled', { keys: [parseState(ctx.arg(1))] });
  }),
  cmd('lsp-get-enabled', 1, 1, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    ctx.print(p.get('enabled').keys[0] === false ? 'disabled\n' : 'enabled\n');
  }),
  cmd('lsp-set-type', 2, 2, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    const t = ctx.arg(1);
    if (!LSP_TYPES.includes(t)) throw new CtlError(`Logical switch port type '${t}' is unrecognized. Not setting type.`);
    p.set('type', str(t));
  }),
  cmd('lsp-get-type', 1, 1, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    ctx.print(`${p.str('type')}\n`);
  }),
  cmd('lsp-set-options', 1, Infinity, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    setKv(ctx, p, 'options', ctx.args.slice(1));
  }),
  cmd('lsp-get-options', 1, 1, SWITCHES, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    printKv(ctx, p.get('options'));
  }),
  cmd('lsp-set-dhcpv4-options', 1, 2, LSP_DHCP, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    const id = ctx.args[1];
    if (id === undefined) {
      p.set('dhcpv4_options', { keys: [] });
      return;
    }
    const d = UUID_RE.test(id) ? ctx.db.get('DHCP_Options', id.toLowerCase()) : undefined;
    if (d === undefined) throw new CtlError(`${id}: dhcp options UUID not found`);
    p.set('dhcpv4_options', { keys: [d.uuid] });
  }),
  cmd('lsp-get-dhcpv4-options', 1, 1, LSP_DHCP, (ctx) => {
    const p = lsp(ctx, ctx.arg(0)) as WRow;
    const u = p.get('dhcpv4_options').keys[0];
    if (u === undefined) return;
    const d = ctx.db.get('DHCP_Options', String(u));
    if (d !== undefined) ctx.print(`${d.uuid} (${d.str('cidr')})\n`);
  }),

  // DHCP options.
  cmd('dhcp-options-create', 1, Infinity, DHCP, (ctx) => {
    const cidr = ctx.arg(0);
    if (!parseCidr(cidr)) throw new CtlError(`Invalid cidr format '${cidr}'`);
    const ext: Array<[string, string]> = [];
    for (const a of ctx.args.slice(1)) {
      const eq = a.indexOf('=');
      if (eq >= 0) ext.push([a.slice(0, eq), a.slice(eq + 1)]);
    }
    ctx.db.insert('DHCP_Options', { cidr: str(cidr), external_ids: mapOf(ext) });
  }),
  cmd('dhcp-options-del', 1, 1, DHCP, (ctx) => {
    const d = dhcp(ctx, ctx.arg(0));
    ctx.db.delete(d);
  }),
  cmd('dhcp-options-list', 0, 0, DHCP, (ctx) => {
    for (const d of ctx.db.rows('DHCP_Options')) ctx.print(`${d.uuid}\n`);
  }),
  cmd('dhcp-options-set-options', 1, Infinity, DHCP, (ctx) => {
    setKv(ctx, dhcp(ctx, ctx.arg(0)), 'options', ctx.args.slice(1));
  }),
  cmd('dhcp-options-get-options', 1, 1, DHCP, (ctx) => {
    printKv(ctx, dhcp(ctx, ctx.arg(0)).get('options'));
  }),

  // Logical routers.
  cmd(
    'lr-add',
    0,
    1,
    { Logical_Router: ['name'] },
    (ctx) => {
      const name = ctx.args[0];
      if (name !== undefined && !ctx.has('--add-duplicate') && lr(ctx, name, false) !== undefined) {
        if (ctx.has('--may-exist')) return;
        throw new CtlError(`${name}: a router with this name already exists`);
      }
      ctx.db.insert('Logical_Router', name !== undefined ? { name: str(name) } : {});
    },
    ['--may-exist', '--add-duplicate'],
  ),
  cmd(
    'lr-del',
    1,
    1,
    ROUTERS,
    (ctx) => {
      const r = lr(ctx, ctx.arg(0), !ctx.has('--if-exists'));
      if (r !== undefined) ctx.db.delete(r);
    },
    ['--if-exists'],
  ),
  cmd('lr-list', 0, 0, ROUTERS, (ctx) => listByName(ctx, ctx.db.rows('Logical_Router'))),
  cmd(
    'lrp-add',
    4,
    Infinity,
    ROUTERS,
    (ctx) => {
      const r = lr(ctx, ctx.arg(0)) as WRow;
      const name = ctx.arg(1);
      const mac = ctx.arg(2);
      // Networks up to the first argument with '=', column settings from there (ovn-nbctl(8)).
      const rest = ctx.args.slice(3);
      const firstSetting = rest.findIndex((a) => a.includes('='));
      const nets = firstSetting < 0 ? rest : rest.slice(0, firstSetting);
      const settings = firstSetting < 0 ? [] : rest.slice(firstSetting);
      if (lrp(ctx, name, false) !== undefined) {
        if (!ctx.has('--may-exist')) throw new CtlError(`${name}: a port with this name already exists`);
        return;
      }
      if (scanMac(mac)?.end !== mac.length) throw new CtlError(`${name}: invalid mac address ${mac}`);
      if (nets.length === 0) throw new CtlError(`${name}: router port requires specifying a network`);
      for (const n of nets) if (parseNetwork(n) === undefined) throw new CtlError(`${name}: invalid network address: ${n}`);
      const cols: Record<string, Datum> = { name: str(name), mac: str(mac), networks: strs(nets) };
      const p = ctx.db.insert('Logical_Router_Port', cols);
      const t = ctx.db.schema.tables.get('Logical_Router_Port');
      if (t !== undefined) for (const a of settings) setColumn(ctx, t, p, a);
      addRef(r, 'ports', p.uuid);
    },
    ['--may-exist'],
  ),
  cmd(
    'lrp-del',
    1,
    1,
    ROUTERS,
    (ctx) => {
      const p = lrp(ctx, ctx.arg(0), !ctx.has('--if-exists'));
      if (p === undefined) return;
      const r = routerOfPort(ctx, p);
      if (r === undefined) throw new CtlError(`logical port ${ctx.arg(0)} is not part of any logical router`);
      removeRef(r, 'ports', p.uuid);
      ctx.db.delete(p);
    },
    ['--if-exists'],
  ),
  cmd('lrp-list', 1, 1, ROUTERS, (ctx) => {
    const r = lr(ctx, ctx.arg(0)) as WRow;
    listByName(
      ctx,
      r
        .get('ports')
        .keys.map((u) => ctx.db.get('Logical_Router_Port', String(u)))
        .filter((x): x is WRow => x !== undefined),
    );
  }),
  cmd('lrp-set-enabled', 2, 2, ROUTERS, (ctx) => {
    const p = lrp(ctx, ctx.arg(0)) as WRow;
    p.set('enabled', { keys: [parseState(ctx.arg(1))] });
  }),
  cmd('lrp-get-enabled', 1, 1, ROUTERS, (ctx) => {
    const p = lrp(ctx, ctx.arg(0)) as WRow;
    ctx.print(p.get('enabled').keys[0] === false ? 'disabled\n' : 'enabled\n');
  }),
  ...routeCommands(),
  ...aclCommands(),
  ...pgCommands(),
];

function parseState(s: string): boolean {
  if (s === 'enabled') return true;
  if (s === 'disabled') return false;
  throw new CtlError(`${s}: state must be "enabled" or "disabled"`);
}

function dhcp(ctx: CmdContext, id: string): WRow {
  const d = UUID_RE.test(id) ? ctx.db.get('DHCP_Options', id.toLowerCase()) : undefined;
  if (d === undefined) throw new CtlError(`${id}: dhcp options UUID not found`);
  return d;
}

/** A route prefix as ovn-nbctl stores it: the network (address under its mask), `/plen` unless a host route. */
function normalizePrefix(p: string): string | undefined {
  const v4 = parseIpv4Cidr(p);
  if (v4 !== undefined) {
    const mask = v4.plen === 0 ? 0 : (0xffffffff << (32 - v4.plen)) >>> 0;
    const m = ((v4.addr as number) & mask) >>> 0;
    const s = [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join('.');
    return v4.plen === 32 ? s : `${s}/${v4.plen}`;
  }
  const v6 = parseIpv6Cidr(p);
  if (v6 !== undefined) {
    const mask = v6.plen === 0 ? 0n : ((1n << BigInt(v6.plen)) - 1n) << BigInt(128 - v6.plen);
    const s = formatIpv6((v6.addr as bigint) & mask);
    return v6.plen === 128 ? s : `${s}/${v6.plen}`;
  }
  return undefined;
}

function routeCommands(): CommandSpec[] {
  return [
    cmd(
      'lr-route-add',
      3,
      4,
      ROUTES,
      (ctx) => {
        const r = lr(ctx, ctx.arg(0)) as WRow;
        const policy = ctx.opt('--policy') ?? 'dst-ip';
        const prefix = normalizePrefix(ctx.arg(1));
        if (prefix === undefined) throw new CtlError(`bad prefix argument: ${ctx.arg(1)}`);
        const v6 = prefix.includes(':');
        const nh = ctx.arg(2);
        if (nh !== 'discard') {
          const ok = v6 ? isIpv6(nh) : parseIpv4(nh) !== undefined;
          if (!ok) throw new CtlError(`bad ${v6 ? 'IPv6' : 'IPv4'} nexthop argument: ${nh}`);
        }
        if (ctx.args.length === 4 && lrp(ctx, ctx.arg(3), false) === undefined) throw new CtlError(`${ctx.arg(3)}: port name not found`);
        for (const ru of r.get('static_routes').keys) {
          const route = ctx.db.get('Logical_Router_Static_Route', String(ru));
          if (route === undefined) continue;
          const rp = route.get('policy').keys[0] ?? 'dst-ip';
          if (route.str('ip_prefix') === prefix && rp === policy && route.str('route_table') === (ctx.opt('--route-table') ?? '')) {
            if (ctx.has('--ecmp')) {
              if (route.str('nexthop') === nh) throw new CtlError(`duplicate nexthop for the same ECMP route`);
              continue;
            }
            if (!ctx.has('--may-exist')) {
              throw new CtlError(`duplicate prefix: ${prefix} (policy: ${String(rp)}). Use option --ecmp to allow this for ECMP routing.`);
            }
            route.set('nexthop', str(nh));
            if (ctx.args.length === 4) route.set('output_port', str(ctx.arg(3)));
            return;
          }
        }
        const cols: Record<string, Datum> = { ip_prefix: str(prefix), nexthop: str(nh) };
        if (ctx.args.length === 4) cols['output_port'] = str(ctx.arg(3));
        if (ctx.opt('--policy') !== undefined && ctx.opt('--policy') !== null) cols['policy'] = str(String(ctx.opt('--policy')));
        const rt = ctx.opt('--route-table');
        if (typeof rt === 'string') cols['route_table'] = str(rt);
        const route = ctx.db.insert('Logical_Router_Static_Route', cols);
        addRef(r, 'static_routes', route.uuid);
      },
      ['--may-exist', '--ecmp', '--policy=', '--route-table=', '--ecmp-symmetric-reply', '--bfd'],
    ),
    cmd(
      'lr-route-del',
      1,
      4,
      ROUTES,
      (ctx) => {
        const r = lr(ctx, ctx.arg(0)) as WRow;
        const prefix = ctx.args[1] === undefined ? undefined : normalizePrefix(ctx.arg(1));
        if (ctx.args[1] !== undefined && prefix === undefined) throw new CtlError(`bad prefix argument: ${ctx.arg(1)}`);
        const nh = ctx.args[2];
        const port = ctx.args[3];
        let found = false;
        for (const ru of [...r.get('static_routes').keys]) {
          const route = ctx.db.get('Logical_Router_Static_Route', String(ru));
          if (route === undefined) continue;
          if (prefix !== undefined && route.str('ip_prefix') !== prefix) continue;
          if (nh !== undefined && route.str('nexthop') !== nh) continue;
          if (port !== undefined && route.str('output_port') !== port) continue;
          found = true;
          removeRef(r, 'static_routes', route.uuid);
          ctx.db.delete(route);
        }
        if (!found && prefix !== undefined && !ctx.has('--if-exists')) {
          throw new CtlError(
            `no matching route: policy '${'any'}', prefix '${ctx.arg(1)}', nexthop '${nh ?? 'any'}', output_port '${port ?? 'any'}'.`,
          );
        }
      },
      ['--if-exists', '--policy=', '--route-table='],
    ),
    cmd('lr-route-list', 1, 1, ROUTES, (ctx) => {
      const r = lr(ctx, ctx.arg(0)) as WRow;
      const routes = r
        .get('static_routes')
        .keys.map((u) => ctx.db.get('Logical_Router_Static_Route', String(u)))
        .filter((x): x is WRow => x !== undefined);
      const print = (list: WRow[], title: string, first: boolean): void => {
        if (list.length === 0) return;
        if (!first) ctx.print('\n');
        ctx.print(`${title}\n`);
        ctx.print('Route Table <main>:\n');
        list.sort((a, b) => comparePrefix(a.str('ip_prefix'), b.str('ip_prefix')));
        for (const rt of list) {
          const policy = String(rt.get('policy').keys[0] ?? 'dst-ip');
          let line = `${rt.str('ip_prefix').padStart(25)} ${rt.str('nexthop').padStart(25)} ${policy}`;
          const op = rt.get('output_port').keys[0];
          if (op !== undefined) line += ` ${String(op)}`;
          ctx.print(`${line}\n`);
        }
      };
      const v4 = routes.filter((x) => !x.str('ip_prefix').includes(':'));
      const v6 = routes.filter((x) => x.str('ip_prefix').includes(':'));
      print(v4, 'IPv4 Routes', true);
      print(v6, 'IPv6 Routes', v4.length === 0);
    }),
  ];
}

function prefixLen(p: string): number {
  const [, plen] = p.split('/');
  return plen === undefined ? (p.includes(':') ? 128 : 32) : Number(plen);
}

/** Longest prefix first, then by address. */
function comparePrefix(a: string, b: string): number {
  const d = prefixLen(b) - prefixLen(a);
  if (d !== 0) return d;
  // Then by address as a number, as ovn-nbctl sorts (10.5.2.0/24 before 10.5.10.0/24).
  const na = parseNetwork(a);
  const nb = parseNetwork(b);
  if (na !== undefined && nb !== undefined && na.family === nb.family && na.addr !== nb.addr) return na.addr < nb.addr ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function aclEntity(ctx: CmdContext, id: string): { row: WRow; isPg: boolean } {
  const type = ctx.opt('--type');
  if (type === 'port-group') {
    const pg = ctx.db.lookup('Port_Group', 'name', id)[0] ?? (UUID_RE.test(id) ? ctx.db.get('Port_Group', id.toLowerCase()) : undefined);
    if (pg === undefined) throw new CtlError(`${id}: port group name not found`);
    return { row: pg, isPg: true };
  }
  if (type === 'switch') return { row: ls(ctx, id) as WRow, isPg: false };
  if (type !== undefined && type !== null) throw new CtlError(`Invalid value '${type}' for option --type`);
  const s = ls(ctx, id, false);
  const pg = ctx.db.lookup('Port_Group', 'name', id)[0];
  if (s !== undefined && pg !== undefined) {
    throw new CtlError(`Same name '${id}' exists in both port-groups and logical switches. Specify --type=port-group or switch`);
  }
  if (s !== undefined) return { row: s, isPg: false };
  if (pg !== undefined) return { row: pg, isPg: true };
  throw new CtlError(`'${id}' is not found for port-group or switch.`);
}

function aclCommands(): CommandSpec[] {
  const dirOf = (s: string): string => {
    if (s === 'from-lport' || s === 'to-lport') return s;
    throw new CtlError(`${s}: direction must be "to-lport" or "from-lport"`);
  };
  const prioOf = (s: string): number => {
    if (!/^\d+$/.test(s) || Number(s) > 32767) throw new CtlError(`${s}: priority must in range 0...32767`);
    return Number(s);
  };
  return [
    cmd(
      'acl-add',
      5,
      5,
      ACLS,
      (ctx) => {
        const { row } = aclEntity(ctx, ctx.arg(0));
        const dir = dirOf(ctx.arg(1));
        const prio = prioOf(ctx.arg(2));
        const match = ctx.arg(3);
        const action = ctx.arg(4);
        if (!ACL_ACTIONS.includes(action)) {
          throw new CtlError(`${action}: action must be one of "allow", "allow-related", "allow-stateless", "drop", and "reject"`);
        }
        const cols: Record<string, Datum> = { direction: str(dir), priority: { keys: [prio] }, match: str(match), action: str(action) };
        if (ctx.has('--log')) cols['log'] = { keys: [true] };
        const name = ctx.opt('--name');
        if (typeof name === 'string') cols['name'] = str(name);
        const sev = ctx.opt('--severity');
        if (typeof sev === 'string') cols['severity'] = str(sev);
        const meter = ctx.opt('--meter');
        if (typeof meter === 'string') cols['meter'] = str(meter);
        if (ctx.has('--apply-after-lb')) cols['options'] = mapOf([['apply-after-lb', 'true']]);
        if (ctx.has('--may-exist')) {
          for (const au of row.get('acls').keys) {
            const a = ctx.db.get('ACL', String(au));
            if (a !== undefined && a.str('direction') === dir && a.get('priority').keys[0] === prio && a.str('match') === match) {
              return;
            }
          }
        }
        const acl = ctx.db.insert('ACL', cols);
        addRef(row, 'acls', acl.uuid);
      },
      ['--log', '--meter=', '--severity=', '--name=', '--label=', '--may-exist', '--type=', '--apply-after-lb', '--tier='],
    ),
    cmd(
      'acl-del',
      1,
      4,
      ACLS,
      (ctx) => {
        const { row } = aclEntity(ctx, ctx.arg(0));
        if (ctx.args.length === 1) {
          for (const au of row.get('acls').keys) {
            const a = ctx.db.get('ACL', String(au));
            if (a !== undefined) ctx.db.delete(a);
          }
          row.set('acls', { keys: [] });
          return;
        }
        const dir = dirOf(ctx.arg(1));
        if (ctx.args.length === 3) throw new CtlError('cannot specify priority without match');
        const prio = ctx.args.length > 2 ? prioOf(ctx.arg(2)) : undefined;
        const match = ctx.args[3];
        for (const au of [...row.get('acls').keys]) {
          const a = ctx.db.get('ACL', String(au));
          if (a === undefined || a.str('direction') !== dir) continue;
          if (prio !== undefined && (a.get('priority').keys[0] !== prio || a.str('match') !== match)) continue;
          removeRef(row, 'acls', a.uuid);
          ctx.db.delete(a);
        }
      },
      ['--type='],
    ),
    cmd(
      'acl-list',
      1,
      1,
      ACLS,
      (ctx) => {
        const { row } = aclEntity(ctx, ctx.arg(0));
        const acls = row
          .get('acls')
          .keys.map((u) => ctx.db.get('ACL', String(u)))
          .filter((x): x is WRow => x !== undefined);
        acls.sort((a, b) => {
          const da = a.str('direction');
          const db = b.str('direction');
          if (da !== db) return da < db ? -1 : 1;
          const pa = Number(a.get('priority').keys[0]);
          const pb = Number(b.get('priority').keys[0]);
          if (pa !== pb) return pb - pa;
          const ma = a.str('match');
          const mb = b.str('match');
          return ma < mb ? -1 : ma > mb ? 1 : 0;
        });
        for (const a of acls) {
          let line = `${a.str('direction').padStart(10)} ${String(a.get('priority').keys[0]).padStart(5)} (${a.str('match')}) ${a.str('action')}`;
          if (a.get('log').keys[0] === true) {
            const parts: string[] = [];
            const n = a.get('name').keys[0];
            if (n !== undefined) parts.push(`name=${String(n)}`);
            const sv = a.get('severity').keys[0];
            if (sv !== undefined) parts.push(`severity=${String(sv)}`);
            const m = a.get('meter').keys[0];
            if (m !== undefined) parts.push(`meter=${atomToText(m, STRING)}`);
            line += ` log(${parts.join(',')})`;
          }
          ctx.print(`${line}\n`);
        }
      },
      ['--type='],
    ),
  ];
}

function pgCommands(): CommandSpec[] {
  const portUuids = (ctx: CmdContext, names: readonly string[]): string[] => names.map((n) => (lsp(ctx, n) as WRow).uuid);
  return [
    cmd('pg-add', 1, Infinity, PORT_GROUPS, (ctx) => {
      const name = ctx.arg(0);
      ctx.db.insert('Port_Group', { name: str(name), ports: strs(portUuids(ctx, ctx.args.slice(1))) });
    }),
    cmd('pg-set-ports', 1, Infinity, PORT_GROUPS, (ctx) => {
      const pg = pgRow(ctx, ctx.arg(0));
      pg.set('ports', strs(portUuids(ctx, ctx.args.slice(1))));
    }),
    cmd(
      'pg-del',
      1,
      1,
      PORT_GROUPS,
      (ctx) => {
        const pg = pgRow(ctx, ctx.arg(0), !ctx.has('--if-exists'));
        if (pg !== undefined) ctx.db.delete(pg);
      },
      ['--if-exists'],
    ),
  ];
}

function pgRow(ctx: CmdContext, id: string, must?: true): WRow;
function pgRow(ctx: CmdContext, id: string, must: boolean): WRow | undefined;
function pgRow(ctx: CmdContext, id: string, must = true): WRow | undefined {
  const r = (UUID_RE.test(id) ? ctx.db.get('Port_Group', id.toLowerCase()) : undefined) ?? ctx.db.lookup('Port_Group', 'name', id)[0];
  if (r === undefined && must) throw new CtlError(`${id}: port group name not found`);
  return r;
}
