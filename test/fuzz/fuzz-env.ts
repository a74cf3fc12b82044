/**
 * The fuzz convention (test/fuzz/README.md) in code: run counts and seeds from the
 * environment, fast-check parameters that make a failure replayable, peak RSS of a
 * process under test, and the one FUZZ line a campaign collects.
 */
import { readFileSync } from 'node:fs';
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
}

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${v}: not an integer`);
  return n;
}

/** The settings of this run; `scale` divides the run count for targets whose inputs are expensive (a process each). */
export function fuzzSettings(scale = 1): FuzzSettings {
  return {
    runs: Math.max(1, Math.floor(intEnv('FUZZ_RUNS', DEFAULT_RUNS) / scale)),
    seed: intEnv('FUZZ_SEED', DEFAULT_SEED),
    path: process.env['FUZZ_PATH'] || undefined,
    campaign: process.env['FUZZ_CAMPAIGN'] === '1',
    peer: process.env['FUZZ_PEER'] === '1',
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

/**
 * Draws `s.runs` inputs from `arb` in batches (batch k seeded with `s.seed + k`, so
 * any input is replayed from its seed and number: FUZZ_PATH=<number> runs only it)
 * and hands each batch to `fn`, which runs it (concurrently if it likes).
 */
export async function forEachBatch<T>(
  arb: fc.Arbitrary<T>,
  s: FuzzSettings,
  fn: (batch: T[], firstNumber: number) => Promise<void>,
): Promise<void> {
  if (s.path !== undefined) {
    const n = Number(s.path);
    const k = Math.floor(n / BATCH);
    const batch = fc.sample(arb, { seed: s.seed + k, numRuns: BATCH });
    const only = batch[n % BATCH];
    if (only === undefined) throw new Error(`FUZZ_PATH=${s.path}: no such input`);
    await fn([only], n);
    return;
  }
  for (let done = 0, k = 0; done < s.runs; k++) {
    const n = Math.min(BATCH, s.runs - done);
    await fn(fc.sample(arb, { seed: s.seed + k, numRuns: BATCH }).slice(0, n), done);
    done += n;
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
