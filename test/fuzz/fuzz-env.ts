/**
 * The fuzz harness every target uses (test/fuzz/README.md is the convention):
 * run counts, seeds and time limits from the environment; inputs drawn in
 * numbered, replayable batches; crash and hang accounting; peak RSS of the
 * process under test; progress and the one FUZZ line a campaign collects.
 *
 * Targets that manage their own process under test (ovsdb-server, dbctl) use
 * `forEachBatch` and `FuzzTally` directly; the others hand `fuzz` a check per
 * input and say how many may be in flight at once.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc, { type Parameters } from 'fast-check';

/** The suite's default seed: fixed, so a smoke failure is reproducible. */
export const DEFAULT_SEED = 0x16;
/** Inputs per target in the suite's smoke run. */
export const DEFAULT_RUNS = 10000;
/** A process that has not answered an input within this long hangs. */
export const HANG_MS = 2000;

export interface FuzzSettings {
  /** Inputs per target (FUZZ_RUNS). */
  readonly runs: number;
  /** fast-check seed (FUZZ_SEED). */
  readonly seed: number;
  /** The one input to replay (FUZZ_PATH), from a failure message: a fast-check path or an input number. */
  readonly path: string | undefined;
  /** FUZZ_CAMPAIGN=1: print the FUZZ line and keep going after a crash, counting it. */
  readonly campaign: boolean;
  /** FUZZ_PEER=1: run the same inputs against the real tool too. */
  readonly peer: boolean;
  /** FUZZ_SECONDS: stop drawing batches after this long (0: no limit); the FUZZ line says how many inputs ran. */
  readonly seconds: number;
  /**
   * FUZZ_START: the number of the first input (rounded down to a batch), so a campaign cut short
   * goes on where it stopped, with the same seed, in a later run: inputs FUZZ_START .. FUZZ_RUNS - 1.
   */
  readonly start: number;
}

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${v}: not an integer`);
  return n;
}

/**
 * The settings of this run; `smokeRuns` is the target's run count when FUZZ_RUNS is not set (fewer
 * for targets whose inputs are expensive). A campaign's FUZZ_RUNS is every target's count.
 */
export function fuzzSettings(smokeRuns = DEFAULT_RUNS): FuzzSettings {
  return {
    runs: Math.max(1, intEnv('FUZZ_RUNS', smokeRuns)),
    seed: intEnv('FUZZ_SEED', DEFAULT_SEED),
    path: process.env['FUZZ_PATH'] || undefined,
    campaign: process.env['FUZZ_CAMPAIGN'] === '1',
    peer: process.env['FUZZ_PEER'] === '1',
    seconds: intEnv('FUZZ_SECONDS', 0),
    start: Math.floor(intEnv('FUZZ_START', 0) / BATCH) * BATCH,
  };
}

/** fast-check parameters for `fc.assert`: the seed and path printed on failure replay the input. */
export function fcParams<T>(s: FuzzSettings): Parameters<T> {
  const p: Parameters<T> = { numRuns: s.runs, seed: s.seed, endOnFailure: true };
  if (s.path !== undefined) p.path = s.path;
  return p;
}

/** Inputs are drawn in batches of this many, batch k from seed `FUZZ_SEED + k`. */
export const BATCH = 256;

/** A test's time limit that grows with the run (a campaign's million inputs take long). */
export function fuzzTimeoutMs(smokeRuns: number, msPerInput: number): number {
  return 120_000 + fuzzSettings(smokeRuns).runs * msPerInput;
}

/** A campaign prints a FUZZ-PROGRESS line this often, so a run cut short still has its figures. */
const PROGRESS_MS = 60_000;

/**
 * Draws `s.runs` inputs from `arb` in batches (batch k seeded with `s.seed + k`, so
 * any input is replayed from its seed and number: FUZZ_PATH=<number> runs only it)
 * and hands each batch to `fn`, which runs it (concurrently if it likes). Stops early
 * after FUZZ_SECONDS. Given the tally, samples the RSS of `pid` (default: this process)
 * after each batch and, in a campaign, prints progress lines.
 */
export async function forEachBatch<T>(
  arb: fc.Arbitrary<T>,
  s: FuzzSettings,
  fn: (batch: T[], firstNumber: number) => Promise<void>,
  tally?: FuzzTally,
  pid: () => number | undefined = () => process.pid,
): Promise<void> {
  if (s.path !== undefined) {
    const n = Number(s.path);
    const k = Math.floor(n / BATCH);
    const batch = fc.sample(arb, { seed: s.seed + k, numRuns: BATCH });
    const only = batch[n % BATCH];
    if (only === undefined) throw new Error(`FUZZ_PATH=${s.path}: no such input`);
    await fn([only], n);
    tally?.sampleRss(pid());
    return;
  }
  const deadline = s.seconds > 0 ? Date.now() + s.seconds * 1000 : Infinity;
  let progressAt = Date.now() + PROGRESS_MS;
  for (let done = s.start, k = s.start / BATCH; done < s.runs && Date.now() < deadline; k++) {
    const n = Math.min(BATCH, s.runs - done);
    await fn(fc.sample(arb, { seed: s.seed + k, numRuns: BATCH }).slice(0, n), done);
    done += n;
    tally?.sampleRss(pid());
    if (tally !== undefined && s.campaign && Date.now() >= progressAt) {
      progressAt = Date.now() + PROGRESS_MS;
      console.log(tally.line().replace('FUZZ ', 'FUZZ-PROGRESS '));
    }
  }
}

/** Peak resident set size of a process in MiB (VmHWM), or 0 when it is gone. */
export function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Math.round(Number(m[1]) / 1024);
  } catch {
    return 0;
  }
}

/** Counts for one process under test during one target's run. */
export class FuzzTally {
  inputs = 0;
  crashes = 0;
  hangs = 0;
  peakRssMb = 0;
  private readonly started = Date.now();

  constructor(readonly target: string) {}

  /** Folds a sample of the process's peak RSS in (call before it is restarted or stopped). */
  sampleRss(pid: number | undefined): void {
    this.peakRssMb = Math.max(this.peakRssMb, peakRssMb(pid));
  }

  /** The campaign's line (test/fuzz/README.md). */
  line(): string {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    return `FUZZ target=${this.target} inputs=${this.inputs} crashes=${this.crashes} hangs=${this.hangs} peak_rss_mb=${this.peakRssMb} seconds=${seconds}`;
  }
}

/** Inputs that once crashed or hung a target, by target name: every run tries them first. */
const REGRESSIONS = fileURLToPath(new URL('../../../test/fixtures/fuzz/regressions.json', import.meta.url));

/**
 * One entry of the regression corpus (test/fixtures/fuzz/regressions.json): `why` says what it
 * broke and in which commit it was fixed; the input is `hex` (bytes), `repeat` (a text made of
 * [piece, times] runs, for the huge ones) or `value` (the target's generated value, as JSON).
 */
interface Regression {
  readonly why: string;
  readonly hex?: string;
  readonly repeat?: readonly (readonly [string, number])[];
  readonly value?: unknown;
}

/** The regression inputs of `target`: bytes as Buffers, values as they are (the target's input type). */
export function regressions(target: string): { why: string; input: unknown }[] {
  const all = JSON.parse(readFileSync(REGRESSIONS, 'utf8')) as Record<string, Regression[] | undefined>;
  return (all[target] ?? []).map((r) => {
    if (r.hex !== undefined) return { why: r.why, input: Buffer.from(r.hex, 'hex') };
    if (r.repeat !== undefined) return { why: r.why, input: Buffer.from(r.repeat.map(([p, n]) => p.repeat(n)).join('')) };
    return { why: r.why, input: r.value };
  });
}

/** What a check throws when the target misbehaved (anything else it throws is a crash too). */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
}

export interface FuzzOptions {
  /** Inputs in the smoke run (FUZZ_RUNS overrides). Default DEFAULT_RUNS. */
  readonly smokeRuns?: number;
  /** An input taking longer than this is a hang. Default HANG_MS. */
  readonly hangMs?: number;
  /**
   * Inputs in flight at once (default 1). The check is told which of this many workers runs
   * it, so a target gives each worker its own connection; a worker runs its inputs in order.
   */
  readonly concurrency?: number;
  /** The process under test, when it is not this one (a daemon): its peak RSS is reported. */
  readonly pid?: () => number | undefined;
}

function show(v: unknown): string {
  let s: string;
  if (v instanceof Uint8Array) s = Buffer.from(v).toString('hex');
  else {
    try {
      s = fc.stringify(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > 600 ? `${s.slice(0, 600)}… (${s.length} chars)` : s;
}

/** How one input went: undefined when the check passed, else a crash (its error) or a hang. */
async function runOne<T>(
  check: (input: T, worker: number) => void | Promise<void>,
  input: T,
  worker: number,
  hangMs: number,
  measureCpu: boolean,
): Promise<{ kind: 'crash' | 'hang'; error: string } | undefined> {
  const cpu0 = measureCpu ? process.cpuUsage() : undefined;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    (async () => {
      try {
        await check(input, worker);
        return undefined;
      } catch (e) {
        return e instanceof Error ? (e.stack ?? e.message) : String(e);
      }
    })(),
    new Promise<'hang'>((resolve) => {
      timer = setTimeout(() => resolve('hang'), hangMs);
    }),
  ]);
  clearTimeout(timer);
  // CPU time, not wall time, for work done here when the inputs run one at a time: the machine may be
  // shared (a synchronous check that spins is still caught; one that waits on a peer by the timer above).
  const cpu = cpu0 === undefined ? undefined : process.cpuUsage(cpu0);
  const slow = cpu !== undefined && (cpu.user + cpu.system) / 1000 > hangMs;
  if (outcome === 'hang' || (outcome === undefined && slow)) return { kind: 'hang', error: `took over ${hangMs} ms` };
  return outcome === undefined ? undefined : { kind: 'crash', error: outcome };
}

/**
 * Runs `check` on the target's inputs drawn from `arb` (forEachBatch). A check that throws or
 * rejects is a crash; one that does not settle within `hangMs` (or, run one at a time, burns more
 * than `hangMs` of CPU) is a hang, abandoned while the run goes on. Prints the FUZZ line, the first
 * few failures with the FUZZ_SEED/FUZZ_PATH that replays each, and fails if there was any.
 */
export async function fuzz<T>(
  target: string,
  arb: fc.Arbitrary<T>,
  check: (input: T, worker: number) => void | Promise<void>,
  opts: FuzzOptions = {},
): Promise<void> {
  const s = fuzzSettings(opts.smokeRuns);
  const hangMs = opts.hangMs ?? HANG_MS;
  const workers = Math.max(1, opts.concurrency ?? 1);
  const tally = new FuzzTally(target);
  const failures: string[] = [];
  const count = (bad: { kind: 'crash' | 'hang'; error: string }, where: string, input: unknown): void => {
    if (bad.kind === 'crash') tally.crashes++;
    else tally.hangs++;
    const line = `${bad.kind} ${where}\n  input: ${show(input)}\n  ${bad.error}`;
    if (failures.length < 5) {
      failures.push(line);
      if (s.campaign) console.log(`FUZZ-PROBLEM target=${target} ${line.split('\n').join(' | ')}`);
    }
  };
  // The inputs that once broke this target come first (not when replaying one input).
  if (s.path === undefined) {
    for (const [i, r] of regressions(target).entries()) {
      const bad = await runOne(check, r.input as T, 0, hangMs, workers === 1);
      tally.inputs++;
      if (bad !== undefined) count(bad, `regression ${i} (${r.why})`, r.input);
    }
  }
  await forEachBatch(
    arb,
    s,
    async (batch, first) => {
      let next = 0;
      const worker = async (w: number): Promise<void> => {
        for (let i = next++; i < batch.length; i = next++) {
          const input = batch[i] as T;
          const bad = await runOne(check, input, w, hangMs, workers === 1);
          tally.inputs++;
          if (bad !== undefined) count(bad, `FUZZ_SEED=${s.seed} FUZZ_PATH=${first + i}`, input);
        }
      };
      await Promise.all(Array.from({ length: Math.min(workers, batch.length) }, (_, w) => worker(w)));
    },
    tally,
    opts.pid,
  );
  console.log(tally.line());
  assert.equal(
    tally.crashes + tally.hangs,
    0,
    `${target}: ${tally.crashes} crashes, ${tally.hangs} hangs in ${tally.inputs} inputs\n${failures.join('\n')}`,
  );
}
