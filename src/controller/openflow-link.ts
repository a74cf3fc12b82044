/**
 * A {@link SwitchLink} over the controller's own OpenFlow 1.5 connection to
 * the bridge's management socket (src/openflow/connection.ts): flow stats to
 * read the table, one atomic bundle (OFPBF_ATOMIC | OFPBF_ORDERED) per
 * difference, answered once applied (so no separate barrier). Flows are the
 * flow model (openflow/flow.ts) end to end: the desired table as the flow
 * computation builds it, the installed one as flow stats decode it; they
 * compare in the model's canonical printing (actions as the switch reports
 * them back), so the two compare field for field.
 */
import { OpenFlowConnection, OpenFlowError } from '../openflow/connection.js';
import type { TlvMap } from '../openflow/codec/messages.js';
import { OpenFlowCodecError } from '../openflow/codec/bytes.js';
import { formatFlow, formatMatch } from '../openflow/flow-text.js';
import { FlowModelError, OFPTT_ALL, type Flow, type FlowMod } from '../openflow/flow.js';
import type { FlowDiff, SwitchLink } from './ofctrl.js';
import { flowContent, flowIdentity, sameBuiltContent } from './flow-keys.js';

export interface OpenFlowLinkOptions {
  /** `unix:<rundir>/<bridge>.mgmt`. */
  readonly target: string;
  /** Called after every (re)connection: ofctrl must re-read the table. */
  readonly onConnected?: () => void;
  /** Named logger. Default: silent. */
  readonly log?: (msg: string) => void;
}

export class OpenFlowLink implements SwitchLink<Flow> {
  private readonly conn: OpenFlowConnection;
  readonly identity = flowIdentity;
  readonly content = flowContent;
  readonly sameBuilt = sameBuiltContent;

  constructor(private readonly opts: OpenFlowLinkOptions) {
    this.conn = new OpenFlowConnection({
      target: opts.target,
      packetIn2: false,
      asyncMessages: false,
      ...(opts.log === undefined ? {} : { log: opts.log }),
    });
    this.conn.on('connected', () => opts.onConnected?.());
  }

  start(): void {
    // Resolves on the first connection; until then `connected` is false and installs wait.
    this.conn.start().catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.conn.stop();
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  /** Resolves once the connection is up (at once if it is). */
  ready(): Promise<void> {
    return this.conn.waitConnected();
  }

  /**
   * Maps a Geneve option to its `tun_metadata` field (NXT_TLV_TABLE_MOD)
   * unless the switch already maps exactly that option there: the map is
   * the switch's, kept across controller restarts, and flows that match the
   * field depend on it.
   */
  async ensureTlvMap(map: TlvMap): Promise<void> {
    const have = await this.conn.tlvTable();
    const same = (m: TlvMap): boolean =>
      m.optClass === map.optClass && m.optType === map.optType && m.optLen === map.optLen && m.index === map.index;
    if (have.some(same)) return;
    await this.conn.tlvTableMod('ADD', [map]);
  }

  async dumpFlows(): Promise<Flow[] | undefined> {
    try {
      const stats = await this.conn.dumpFlows();
      // Each must also print, as ofctrl compares read-back flows in their printing.
      for (const f of stats) {
        formatMatch(f.match);
        flowContent(f);
      }
      return stats;
    } catch (e) {
      if (!(e instanceof OpenFlowCodecError || e instanceof FlowModelError)) throw e;
      this.opts.log?.(`installed flows not understood: ${e.message}`);
      return undefined;
    }
  }

  async commitBundle(diff: FlowDiff<Flow>): Promise<void> {
    const mods: FlowMod[] = [];
    if (diff.flush === true) mods.push({ command: 'DELETE', flow: { table: OFPTT_ALL, priority: 0, cookie: 0n, match: [], actions: [] } });
    for (const f of diff.remove) mods.push({ command: 'DELETE_STRICT', flow: f });
    for (const f of [...diff.add, ...diff.modify]) mods.push({ command: 'ADD', flow: f });
    try {
      await this.conn.transactFlows(mods);
    } catch (e) {
      // Name the refused flow: the bundle is all-or-nothing, so one bad flow blocks every change.
      if (!(e instanceof OpenFlowError) || e.index === undefined) throw e;
      const bad = mods[e.index];
      throw bad === undefined
        ? e
        : new OpenFlowError(
            e.errorName,
            e.type,
            e.code,
            e.data,
            `bundle add #${e.index + 1} (${bad.command} ${formatFlow(bad.flow)})`,
            e.index,
          );
    }
  }

  async barrier(): Promise<void> {
    // Every change went out in a bundle whose commit OVS answered after applying it; nothing else is in flight.
  }
}
