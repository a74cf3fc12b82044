/**
 * This host's Open vSwitch database, as the container tools use it: a
 * replica of the Open_vSwitch row, the bridges and their ports and
 * interfaces (through the OVSDB client), read-modify-write of `external_ids`
 * maps that concurrent tools cannot interleave (a `wait` on the column, as
 * the OVS IDL verifies, retried on "timed out"), and port changes made in
 * one transaction each, as ovs-vsctl(8) makes them — `next_cfg` bumped and
 * `cur_cfg` awaited when the caller needs ovs-vswitchd to have applied them —
 * but over one connection a resident process keeps (no process per change).
 */
import { OvsdbClient, isTryAgain, type Row } from '../ovsdb/client.js';
import { command } from './command.js';
import { errnoText } from '../lib/errno-text.js';

/** `unix:$OVS_RUNDIR/db.sock`, the database every OVS tool uses by default (ovs-vsctl(8) `--db`). */
export function defaultOvsDb(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return `unix:${env['OVS_RUNDIR'] ?? '/var/run/openvswitch'}/db.sock`;
}

/** Changes to one `external_ids` map: keys to set and keys to remove. */
export interface IdsEdit {
  readonly set?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

const TABLES = {
  Open_vSwitch: ['external_ids', 'bridges', 'next_cfg', 'cur_cfg'],
  Bridge: ['name', 'external_ids', 'ports'],
  Port: ['name', 'interfaces', 'tag'],
  Interface: ['name', 'external_ids', 'ofport'],
} as const;

/** A port of one interface of the same name (ovs-vsctl add-port). */
export interface NewPort {
  readonly bridge: string;
  readonly name: string;
  /** Access VLAN. */
  readonly tag?: number;
  readonly interfaceIds?: Readonly<Record<string, string>>;
}

export class OvsDb {
  private constructor(
    readonly remote: string,
    private readonly client: OvsdbClient,
  ) {}

  /**
   * Connects to the database; fails at once when the remote cannot be reached
   * (no socket, connection refused — as ovs-vsctl opens it, without retry), and
   * when nothing answers within `timeoutMs`.
   */
  static async open(remote: string = defaultOvsDb(), timeoutMs = 5000): Promise<OvsDb> {
    const client = new OvsdbClient({ remotes: remote, database: 'Open_vSwitch', tables: TABLES, retry: false });
    let timer: NodeJS.Timeout | undefined;
    const failed = (why: string): Error => new Error(`cannot connect to the Open vSwitch database at ${remote} (${why})`);
    try {
      await Promise.race([
        client.start().catch((e: unknown) => {
          const code = (e as { code?: string }).code;
          throw failed(code === undefined ? (e as Error).message : errnoText({ code }));
        }),
        new Promise((_, reject) => (timer = setTimeout(() => reject(failed('no answer')), timeoutMs))),
      ]);
    } catch (e) {
      await client.stop();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return new OvsDb(remote, client);
  }

  close(): Promise<void> {
    return this.client.stop();
  }

  /** False once the connection is gone (this client does not reconnect). */
  get connected(): boolean {
    return this.client.isConnected;
  }

  private root(): Row {
    const r = this.client.table('Open_vSwitch').values().next().value;
    if (r === undefined) throw new Error('the Open vSwitch database has no Open_vSwitch row (run ovs-vsctl init)');
    return r;
  }

  private bridgeRow(name: string): Row | undefined {
    for (const r of this.client.table('Bridge').values()) if (r.scalar('name') === name) return r;
    return undefined;
  }

  /** `Open_vSwitch .` external_ids. */
  rootIds(): Map<string, string> {
    return stringMap(this.root());
  }

  /** Bridge names (ovs-vsctl list-br). */
  bridges(): string[] {
    return [...this.client.table('Bridge').values()].map((r) => String(r.scalar('name'))).sort();
  }

  /** A bridge's external_ids, or undefined when there is no such bridge. */
  bridgeIds(bridge: string): Map<string, string> | undefined {
    const r = this.bridgeRow(bridge);
    return r === undefined ? undefined : stringMap(r);
  }

  /** The names of the bridge's ports. */
  bridgePorts(bridge: string): string[] {
    const r = this.bridgeRow(bridge);
    if (r === undefined) return [];
    const ports = this.client.table('Port');
    return r.set('ports').flatMap((u) => {
      const p = ports.get(String(u));
      return p === undefined ? [] : [String(p.scalar('name'))];
    });
  }

  /** The Interface row named `name`. */
  private interfaceRow(name: string): Row | undefined {
    for (const r of this.client.table('Interface').values()) if (r.scalar('name') === name) return r;
    return undefined;
  }

  private portRow(name: string): Row | undefined {
    for (const r of this.client.table('Port').values()) if (r.scalar('name') === name) return r;
    return undefined;
  }

  /** An interface's external_ids, or undefined when there is no such interface. */
  interfaceIds(name: string): Map<string, string> | undefined {
    const r = this.interfaceRow(name);
    return r === undefined ? undefined : stringMap(r);
  }

  /** Interfaces whose external_ids hold `key=value`: name and external_ids. */
  interfacesWith(key: string, value: string): Array<{ name: string; ids: Map<string, string> }> {
    const out: Array<{ name: string; ids: Map<string, string> }> = [];
    for (const r of this.client.table('Interface').values()) {
      const ids = stringMap(r);
      if (ids.get(key) === value) out.push({ name: String(r.scalar('name')), ids });
    }
    return out;
  }

  /** A port's access VLAN (undefined: no such port, or a trunk). */
  portTag(name: string): number | undefined {
    const t = this.portRow(name)?.optional('tag');
    return typeof t === 'number' ? t : typeof t === 'bigint' ? Number(t) : undefined;
  }

  /**
   * ovs-vsctl --may-exist add-port: the Port and its Interface inserted and
   * added to the bridge in one transaction (a port already there is left as
   * is). With `applied`, resolves only once ovs-vswitchd has applied it.
   */
  async addPort(p: NewPort, applied = false): Promise<void> {
    if (this.portRow(p.name) !== undefined) return;
    const br = this.bridgeRow(p.bridge);
    if (br === undefined) throw new Error(`no bridge named ${p.bridge}`);
    const txn = this.client.txn();
    const iface = txn.insert('Interface', {
      name: p.name,
      ...(p.interfaceIds === undefined ? {} : { external_ids: ['map', Object.entries(p.interfaceIds)] }),
    });
    const port = txn.insert('Port', { name: p.name, interfaces: iface, ...(p.tag === undefined ? {} : { tag: p.tag }) });
    txn.mutate('Bridge', br.uuid, [['ports', 'insert', ['set', [port]]]]);
    await this.commit(txn, applied);
  }

  /** ovs-vsctl --if-exists del-port BRIDGE NAME (the Port and Interface go with it). */
  async deletePort(bridge: string, name: string, applied = false): Promise<void> {
    const port = this.portRow(name);
    const br = this.bridgeRow(bridge);
    if (port === undefined || br === undefined || !br.set('ports').includes(port.uuid)) return;
    const txn = this.client.txn();
    txn.mutate('Bridge', br.uuid, [['ports', 'delete', ['set', [['uuid', port.uuid]]]]]);
    await this.commit(txn, applied);
  }

  /** Sets and removes keys of an interface's external_ids. */
  async editInterfaceIds(name: string, e: IdsEdit): Promise<void> {
    const r = this.interfaceRow(name);
    if (r === undefined) throw new Error(`no interface named ${name}`);
    const set = Object.entries(e.set ?? {});
    const txn = this.client.txn();
    txn.mutate('Interface', r.uuid, [
      ['external_ids', 'delete', ['set', [...(e.remove ?? []), ...set.map(([k]) => k)]]],
      ['external_ids', 'insert', ['map', set]],
    ]);
    await this.commit(txn, false);
  }

  /** Resolves once `pred` holds on the replica; rejects after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs: number): Promise<void> {
    return this.client.waitUntil(pred, timeoutMs);
  }

  /**
   * Commits; with `applied`, bumps `next_cfg` in the same transaction and
   * waits until ovs-vswitchd reports it in `cur_cfg` (as ovs-vsctl does).
   */
  private async commit(txn: ReturnType<OvsdbClient['txn']>, applied: boolean): Promise<void> {
    if (!applied) {
      await txn.commit();
      return;
    }
    const root = this.root();
    txn.mutate('Open_vSwitch', root.uuid, [['next_cfg', '+=', 1]]);
    // As ovs-vsctl does: read back the next_cfg this transaction made, and wait for ovs-vswitchd to reach it.
    txn.op({ op: 'select', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', root.uuid]]], columns: ['next_cfg'] });
    const results = await txn.commit();
    const selected = results[results.length - 1] as { rows?: Array<{ next_cfg?: unknown }> };
    const want = Number(selected.rows?.[0]?.next_cfg);
    if (!Number.isInteger(want)) return;
    try {
      await this.client.waitUntil(() => Number(this.root().scalar('cur_cfg')) >= want, 10000);
    } catch {
      throw new Error('ovs-vswitchd did not apply the change within 10 s (is it running?)');
    }
  }

  /** Edits `Open_vSwitch .` external_ids atomically (see {@link editBridgeIds}). */
  editRootIds<T>(edit: (ids: Map<string, string>) => { edit: IdsEdit; result: T }): Promise<T> {
    return this.editIds('Open_vSwitch', () => this.root(), edit);
  }

  /**
   * Reads a bridge's external_ids, lets `edit` decide the change (it may throw
   * to refuse), and commits it only if the map is still what `edit` saw;
   * otherwise reads again and retries, so concurrent tools never interleave.
   */
  editBridgeIds<T>(bridge: string, edit: (ids: Map<string, string>) => { edit: IdsEdit; result: T }): Promise<T> {
    return this.editIds(
      'Bridge',
      () => {
        const r = this.bridgeRow(bridge);
        if (r === undefined) throw new Error(`OVN bridge is not set or seen`);
        return r;
      },
      edit,
    );
  }

  private async editIds<T>(table: string, row: () => Row, edit: (ids: Map<string, string>) => { edit: IdsEdit; result: T }): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const r = row();
      const { edit: e, result } = edit(stringMap(r));
      const set = Object.entries(e.set ?? {});
      const remove = [...(e.remove ?? []), ...set.map(([k]) => k)];
      if (set.length === 0 && remove.length === 0) return result;
      const txn = this.client.txn().verify(table, r.uuid, ['external_ids']);
      txn.mutate(table, r.uuid, [
        ['external_ids', 'delete', ['set', remove]],
        ['external_ids', 'insert', ['map', set]],
      ]);
      try {
        await txn.commit();
        await this.client.waitUntil(() => this.client.row(table, r.uuid) !== r, 5000).catch(() => undefined);
        return result;
      } catch (err) {
        if (!isTryAgain(err) || attempt >= 200) throw err;
        // Another writer got there first: our replica gets its change shortly.
        await this.client
          .waitUntil(() => this.client.row(table, r.uuid) !== r, 200 + Math.floor(Math.random() * 50))
          .catch(() => undefined);
      }
    }
  }
}

/** `ovs-vsctl --db=REMOTE --timeout=5 ARGS` (the 2015 tools' timeout). */
export function vsctl(remote: string, ...args: string[]): Promise<string> {
  return command('ovs-vsctl', [`--db=${remote}`, '--timeout=5', ...args], { timeoutMs: 10000 });
}

function stringMap(r: Row): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of r.map('external_ids')) m.set(String(k), String(v));
  return m;
}
