/**
 * This host's Open vSwitch database, as the container tools use it: a
 * replica of the Open_vSwitch row, the bridges and their ports and
 * interfaces (through the OVSDB client), read-modify-write of `external_ids`
 * maps that concurrent tools cannot interleave (a `wait` on the column, as
 * the OVS IDL verifies, retried on "timed out"), and ovs-vsctl(8) for port
 * changes, which must wait until ovs-vswitchd has applied them.
 */
import { OvsdbClient, isTryAgain, type Row } from '../ovsdb/client.js';
import { command } from './command.js';
import { errnoText } from '../lib/errno-text.js';

/** `unix:$OVS_RUNDIR/db.sock`, the database every OVS tool uses by default (ovs-vsctl(8) `--db`). */
export function defaultOvsDb(): string {
  return `unix:${process.env['OVS_RUNDIR'] ?? '/var/run/openvswitch'}/db.sock`;
}

/** Changes to one `external_ids` map: keys to set and keys to remove. */
export interface IdsEdit {
  readonly set?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

const TABLES = {
  Open_vSwitch: ['external_ids', 'bridges'],
  Bridge: ['name', 'external_ids', 'ports'],
  Port: ['name', 'interfaces', 'tag'],
  Interface: ['name', 'external_ids'],
} as const;

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

  /** Every Port name in the database. */
  portNames(): Set<string> {
    return new Set([...this.client.table('Port').values()].map((r) => String(r.scalar('name'))));
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

  /** ovs-vsctl(8) on this database (it waits for ovs-vswitchd to apply the change). */
  vsctl(...args: string[]): Promise<string> {
    return vsctl(this.remote, ...args);
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
