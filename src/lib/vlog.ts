/**
 * Logging as the OVS/OVN daemons do it (ovs-appctl(8) "VLOG COMMANDS",
 * ovs-vswitchd(8) "Logging Options"): named modules, each with a level per
 * destination (console, syslog, file), set by `-v`/`--verbose=SPEC` and
 * `vlog/set SPEC`, listed by `vlog/list`; the file is written asynchronously,
 * the lines of one event-loop turn in one write (a crash loses at most that
 * turn's lines, as OVS's async vlog may; a normal exit writes them out), and
 * `vlog/reopen` reopens it after a rotation. Rate-limited messages use
 * {@link RateLimit} as OVS's `VLOG_*_RL` do.
 */
import { appendFileSync, createWriteStream, type WriteStream } from 'node:fs';
import { rateLimitedLog } from './rate-limit.js';

export const LEVELS = ['off', 'emer', 'err', 'warn', 'info', 'dbg'] as const;
export type Level = (typeof LEVELS)[number];
export const DESTINATIONS = ['console', 'syslog', 'file'] as const;
export type Destination = (typeof DESTINATIONS)[number];

/** One module's logger: called as a function it logs at INFO. */
export interface ModuleLog {
  (msg: string): void;
  emer(msg: string): void;
  err(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  dbg(msg: string): void;
  /** Whether a message at `level` goes anywhere (to skip building costly ones). */
  enabled(level: Level): boolean;
  /** A writer at `level` with its own bucket (VLOG_RATE_LIMIT_INIT(perMinute, burst)). */
  rateLimited(level: Level, perMinute?: number, burst?: number): (msg: string) => void;
}

export interface VlogOptions {
  /** Append to this file (asynchronously) and leave the console at OFF. */
  readonly file?: string | undefined;
  /**
   * `vlog`: `TIME|SEQ|MODULE|LEVEL|MESSAGE` as the OVS/OVN daemons write;
   * `brief`: `TIME|MODULE|MESSAGE` (`ovnts up`, whose lines interleave components).
   */
  readonly layout?: 'vlog' | 'brief';
}

const rank = (l: Level): number => LEVELS.indexOf(l);

export class Vlog {
  private readonly levels = new Map<string, Record<Destination, Level>>();
  private readonly defaults: Record<Destination, Level>;
  private seq = 0;
  private console = true;
  private stream: WriteStream | undefined;
  /** File lines of the current event-loop turn, written together at its end. */
  private pending: string[] = [];
  /** Writes `pending` out if the process exits before the turn ends (registered only while lines wait). */
  private readonly onExit = (): void => {
    if (this.pending.length === 0 || this.opts.file === undefined) return;
    try {
      appendFileSync(this.opts.file, this.pending.join(''));
    } catch {
      // Exiting: nowhere left to report it.
    }
    this.pending = [];
  };

  constructor(private readonly opts: VlogOptions = {}) {
    this.defaults = { console: opts.file === undefined ? 'info' : 'off', syslog: 'info', file: 'info' };
    this.module('vlog');
    if (opts.file !== undefined) this.stream = this.open(opts.file);
  }

  /** The logger of module `name` (registered on first use, at the current defaults). */
  module(name: string): ModuleLog {
    if (!this.levels.has(name)) this.levels.set(name, { ...this.defaults });
    const at = (level: Level) => (msg: string) => this.write(name, level, msg);
    const log = Object.assign(at('info'), {
      emer: at('emer'),
      err: at('err'),
      warn: at('warn'),
      info: at('info'),
      dbg: at('dbg'),
      enabled: (level: Level) => this.enabled(name, level),
      rateLimited: (level: Level, perMinute = 5, burst = 20) => {
        const limited = rateLimitedLog((m) => this.write(name, level, m), perMinute, burst);
        return (msg: string) => {
          if (this.enabled(name, level)) limited(msg);
        };
      },
    });
    return log;
  }

  /**
   * Applies a `-v`/`vlog/set` spec: words separated by `:`, `,` or spaces, each
   * a module (or `ANY`), a destination (or `ANY`) or a level; what is not
   * named means all of them, and no level means `dbg`. Throws with OVS's text.
   */
  set(spec: string): void {
    let modules: string[] | undefined;
    let dests: Destination[] | undefined;
    let level: Level | undefined;
    for (const w of spec.split(/[:, ]+/).filter((x) => x !== '')) {
      const lw = w.toLowerCase();
      if ((DESTINATIONS as readonly string[]).includes(lw)) dests = [lw as Destination];
      else if ((LEVELS as readonly string[]).includes(lw)) level = lw as Level;
      else if (lw === 'any') {
        // ANY stands for every module or every destination: both are the default.
      } else if (this.levels.has(w)) modules = [w];
      else throw new Error(`no destination, level, or module "${w}"`);
    }
    const l = level ?? 'dbg';
    for (const m of modules ?? [...this.levels.keys()]) {
      const lv = this.levels.get(m) as Record<Destination, Level>;
      for (const d of dests ?? DESTINATIONS) lv[d] = l;
    }
    if (modules === undefined) for (const d of dests ?? DESTINATIONS) this.defaults[d] = l;
  }

  /** `vlog/list`: each module's level per destination, in OVS's layout. */
  list(): string {
    const up = (l: Level): string => l.toUpperCase().padStart(4);
    let out = '                 console    syslog    file\n                 -------    ------    ------\n';
    for (const [m, lv] of [...this.levels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      out += `${m.padEnd(16)}  ${up(lv.console)}       ${up(lv.syslog)}       ${up(lv.file)}\n`;
    }
    return out;
  }

  /** `vlog/reopen`: closes and reopens the log file (after logrotate moved it). */
  async reopen(): Promise<void> {
    if (this.opts.file === undefined) throw new Error('Logging to file not configured');
    this.drain();
    const old = this.stream;
    this.stream = this.open(this.opts.file);
    if (old !== undefined) await endStream(old);
  }

  /** Stops writing to stderr (a detached daemon's stderr is its parent's, which is gone). */
  detachConsole(): void {
    this.console = false;
    process.stderr.on('error', () => {});
  }

  /** Resolves once every line logged so far is in the file. */
  flush(): Promise<void> {
    this.drain();
    const s = this.stream;
    if (s === undefined) return Promise.resolve();
    return new Promise((resolve) => s.write('', () => resolve()));
  }

  /** Writes out what is queued for the file and closes it. */
  async close(): Promise<void> {
    this.drain();
    const s = this.stream;
    this.stream = undefined;
    if (s !== undefined) await endStream(s);
  }

  private open(file: string): WriteStream {
    const s = createWriteStream(file, { flags: 'a' });
    // A write error (disk full, file removed under us) must not kill the daemon.
    s.on('error', (e) => {
      if (this.console) process.stderr.write(`vlog: ${file}: ${e.message}\n`);
    });
    return s;
  }

  private enabled(name: string, level: Level): boolean {
    const lv = this.levels.get(name);
    if (lv === undefined || level === 'off') return false;
    const r = rank(level);
    return r <= rank(lv.file) || r <= rank(lv.console);
  }

  private write(name: string, level: Level, msg: string): void {
    const lv = this.levels.get(name);
    if (lv === undefined || level === 'off') return;
    const r = rank(level);
    const toFile = this.stream !== undefined && r <= rank(lv.file);
    const toConsole = this.console && r <= rank(lv.console);
    if (!toFile && !toConsole) return;
    const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const line =
      this.opts.layout === 'brief'
        ? `${time}|${name}|${msg}\n`
        : `${time}|${String(++this.seq).padStart(5, '0')}|${name}|${level.toUpperCase()}|${msg}\n`;
    if (toFile) this.queue(line);
    if (toConsole) process.stderr.write(line);
  }

  private queue(line: string): void {
    if (this.pending.push(line) > 1) return;
    process.once('exit', this.onExit);
    setImmediate(() => this.drain());
  }

  /** Hands this turn's lines to the stream in one write. */
  private drain(): void {
    if (this.pending.length === 0) return;
    process.off('exit', this.onExit);
    const text = this.pending.join('');
    this.pending = [];
    this.stream?.write(text);
  }
}

function endStream(s: WriteStream): Promise<void> {
  return new Promise((resolve) => s.end(() => resolve()));
}
