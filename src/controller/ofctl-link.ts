/**
 * A {@link SwitchLink} that drives the bridge through Open vSwitch's own
 * `ovs-ofctl` (ovs-ofctl(8)), for flows written in its flow syntax
 * (ovs-fields(7), ovs-actions(7)): `dump-flows` reads the installed table and
 * `--bundle add-flows` applies a difference as one atomic OpenFlow 1.5 bundle
 * (a bundle with any bad flow mod is refused whole). ovs-ofctl returns once
 * OVS has answered the bundle commit, and OVS applies a committed bundle
 * before it answers, so the commit is also the barrier.
 *
 * This is the link for flows kept as ovs-ofctl text (tests, tools, and
 * deployments where the native OpenFlow connection is not available); the
 * daemon's own link speaks OpenFlow on the management socket.
 */
import { spawn } from 'node:child_process';
import type { FlowDiff, SwitchLink } from './ofctrl.js';
import { FlowModelError, type Flow } from '../openflow/flow.js';
import { formatActions, formatMatch, parseFlow } from '../openflow/flow-text.js';
import { splitTop } from '../openflow/text-values.js';
import { flowContent, flowIdentity, sameBuiltContent } from './flow-keys.js';

/** A flow in ovs-ofctl syntax. `match` is the match without table and priority, `actions` what follows `actions=`. */
export interface TextFlow {
  readonly table: number;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
  /** Default 0. */
  readonly cookie?: bigint;
}

/** A match's fields: split on the commas between them (not inside brackets or parentheses), empty ones dropped. */
function matchFields(match: string): string[] {
  return splitTop(match).filter((f) => f !== '');
}

/** The flow's identity: table, priority and the set of match fields (OVS prints them in its own order). */
export function textFlowIdentity(f: TextFlow): string {
  return `table=${f.table},priority=${f.priority},${matchFields(f.match).sort().join(',')}`;
}

/** The flow's content: cookie and actions. */
export function textFlowContent(f: TextFlow): string {
  return `cookie=0x${(f.cookie ?? 0n).toString(16)},actions=${f.actions}`;
}

/** The `table=…,priority=…,MATCH` part of a flow mod line. */
function selector(f: TextFlow): string {
  return `table=${f.table},priority=${f.priority}${f.match === '' ? '' : `,${f.match}`}`;
}

/** One line of `ovs-ofctl --no-stats dump-flows` as a flow; undefined for headers and blank lines. */
export function parseDumpLine(line: string): TextFlow | undefined {
  const l = line.trim();
  const a = l.indexOf(' actions=');
  if (l === '' || a < 0) return undefined;
  const head = l.slice(0, a);
  const actions = l.slice(a + ' actions='.length);
  let cookie = 0n;
  let table = 0;
  let priority = 0x8000;
  const rest: string[] = [];
  for (const part of head.split(', ')) {
    if (part.startsWith('cookie=')) cookie = BigInt(part.slice('cookie='.length));
    else if (part.startsWith('table=')) table = Number(part.slice('table='.length));
    else rest.push(part);
  }
  const fields = matchFields(rest.join(','));
  const match: string[] = [];
  for (const fl of fields) {
    if (fl.startsWith('priority=')) priority = Number(fl.slice('priority='.length));
    else if (/^(reset_counts|send_flow_rem|check_overlap|no_packet_counts|no_byte_counts|idle_timeout=|hard_timeout=|importance=)/.test(fl))
      continue;
    else match.push(fl);
  }
  return { table, priority, match: match.join(','), actions, cookie };
}

export interface OfctlLinkOptions {
  /** What ovs-ofctl talks to: a bridge name (with OVS_RUNDIR) or `unix:<rundir>/<bridge>.mgmt`. */
  readonly target: string;
  /** Environment for ovs-ofctl (OVS_RUNDIR). Default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** ovs-ofctl binary. Default `ovs-ofctl`. */
  readonly command?: string;
}

function ofctl(opts: OfctlLinkOptions, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.command ?? 'ovs-ofctl', ['-O', 'OpenFlow15', ...args], {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`ovs-ofctl ${args.find((a) => !a.startsWith('-')) ?? ''}: ${err.trim() || `exit ${code}`}`)),
    );
    // ovs-ofctl exits without reading its input when it cannot connect (ovs-vswitchd restarting):
    // the EPIPE is reported through its exit status above, not as an uncaught stream error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** The lines of a bundle that applies `diff` (deletes first, so a replaced identity never collides). */
export function bundleLines(diff: FlowDiff<TextFlow>): string[] {
  // `delete` without a match removes every flow of every table.
  const lines: string[] = diff.flush === true ? ['delete'] : [];
  for (const f of diff.remove) lines.push(`delete_strict ${selector(f)}`);
  for (const f of [...diff.add, ...diff.modify])
    lines.push(`add cookie=0x${(f.cookie ?? 0n).toString(16)},${selector(f)} actions=${f.actions}`);
  return lines;
}

export class OfctlLink implements SwitchLink<TextFlow> {
  readonly connected = true;
  readonly identity = textFlowIdentity;
  readonly content = textFlowContent;

  constructor(private readonly opts: OfctlLinkOptions) {}

  async dumpFlows(): Promise<TextFlow[]> {
    const out = await ofctl(this.opts, ['--no-stats', 'dump-flows', this.opts.target]);
    return out
      .split('\n')
      .map(parseDumpLine)
      .filter((f): f is TextFlow => f !== undefined);
  }

  async commitBundle(diff: FlowDiff<TextFlow>): Promise<void> {
    await ofctl(this.opts, ['--bundle', 'add-flows', this.opts.target, '-'], `${bundleLines(diff).join('\n')}\n`);
  }

  async barrier(): Promise<void> {
    // The bundle commit reply came after OVS applied the bundle; nothing else is in flight.
  }
}

/** A model flow in ovs-ofctl syntax (the printer of openflow/flow-text.ts). */
export function textFlowOf(f: Flow): TextFlow {
  return { table: f.table, priority: f.priority, match: formatMatch(f.match), actions: formatActions(f.actions), cookie: f.cookie };
}

/** A text flow read into the model (the parser of openflow/flow-text.ts). */
export function flowOfText(f: TextFlow): Flow {
  return parseFlow(`cookie=0x${(f.cookie ?? 0n).toString(16)},${selector(f)} actions=${f.actions}`);
}

/**
 * The ovs-ofctl link for model flows: printed for `--bundle add-flows`, read
 * back from `dump-flows` through the flow syntax, compared as the native link
 * compares them.
 */
export class OfctlFlowLink implements SwitchLink<Flow> {
  readonly connected = true;
  readonly identity = flowIdentity;
  readonly content = flowContent;
  readonly sameBuilt = sameBuiltContent;
  private readonly text: OfctlLink;

  constructor(opts: OfctlLinkOptions) {
    this.text = new OfctlLink(opts);
  }

  async dumpFlows(): Promise<Flow[] | undefined> {
    const flows = await this.text.dumpFlows();
    try {
      return flows.map(flowOfText);
    } catch (e) {
      if (e instanceof FlowModelError) return undefined;
      throw e;
    }
  }

  async commitBundle(diff: FlowDiff<Flow>): Promise<void> {
    await this.text.commitBundle({
      ...(diff.flush === true ? { flush: true } : {}),
      add: diff.add.map(textFlowOf),
      modify: diff.modify.map(textFlowOf),
      remove: diff.remove.map(textFlowOf),
    });
  }

  async barrier(): Promise<void> {
    await this.text.barrier();
  }
}
