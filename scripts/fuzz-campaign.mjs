#!/usr/bin/env node
// The long fuzz campaign (test/fuzz/README.md): runs every compiled test/fuzz
// target (or those whose name contains one of the given words) with
// FUZZ_CAMPAIGN=1, FUZZ_RUNS (default 1,000,000) and a fresh seed, the real
// peers too (FUZZ_PEER=1), one file at a time, and collects each target's
// FUZZ line into a table. FUZZ_SECONDS in the environment bounds each target's
// time (test/fuzz/README.md); progress and problem lines are passed through.
//
//   node scripts/fuzz-campaign.mjs [--runs N] [--seed S] [--start N] [--no-peer] [--out DIR] [name...]
//
// --start N goes on with a campaign cut short: inputs N .. runs-1 of the same seed
// (FUZZ_START; the FUZZ lines count this run's inputs only). --test-name P runs only the
// tests whose name matches P (a file may hold several targets).
import { readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { randomInt } from 'node:crypto';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '1000000' },
    seed: { type: 'string' },
    start: { type: 'string', default: '0' },
    'test-name': { type: 'string' },
    'no-peer': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const seed = opts.seed ?? String(randomInt(1, 2 ** 31));
const dir = join(import.meta.dirname, '..', 'dist', 'test', 'fuzz');
if (!existsSync(dir)) {
  console.error(`fuzz-campaign: ${dir} not found (run npm run build first)`);
  process.exit(1);
}
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => positionals.length === 0 || positionals.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error('fuzz-campaign: no fuzz targets match');
  process.exit(1);
}

const env = {
  ...process.env,
  FUZZ_CAMPAIGN: '1',
  FUZZ_RUNS: opts.runs,
  FUZZ_SEED: seed,
  FUZZ_START: opts.start,
  ...(opts['no-peer'] ? {} : { FUZZ_PEER: '1' }),
};
const rows = [];
let failed = false;
console.log(`fuzz campaign: seed=${seed} runs=${opts.runs} start=${opts.start} targets=${files.length}`);
for (const f of files) {
  const only = opts['test-name'] === undefined ? [] : [`--test-name-pattern=${opts['test-name']}`];
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...only, join(dir, f)], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  let lines = 0;
  // What the test runner said just before and after a failure (its stderr comes as `# ` lines): a target
  // that dies (out of memory, say) has no FUZZ line, and this is all that tells why.
  const recent = [];
  let detail = 0;
  child.stdout.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const m = /FUZZ (target=\S+ .*)$/.exec(line);
      if (m !== null) {
        lines++;
        console.log(`FUZZ ${m[1]}`);
        rows.push({ file: f, ...Object.fromEntries(m[1].split(' ').map((kv) => kv.split('='))) });
      } else if (/FUZZ-(PROGRESS|PROBLEM) /.test(line)) {
        // As the target goes: a run cut short still has its figures, a failure is seen at once.
        console.log(line.replace(/^#\s*/, ''));
      } else if (/^not ok /.test(line)) {
        for (const r of recent.splice(0)) console.log(`${f}: ${r}`);
        console.log(`${f}: ${line}`);
        detail = 40;
      } else if (detail > 0) {
        detail--;
        console.log(`${f}: ${line}`);
      } else {
        recent.push(line);
        if (recent.length > 40) recent.shift();
      }
    }
  });
  const code = await new Promise((r) => child.on('close', (c) => r(c)));
  if (code !== 0) failed = true;
  if (lines === 0) console.log(`${f}: no FUZZ line (exit ${code})`);
}

const header = ['target', 'inputs', 'crashes', 'hangs', 'peak_rss_mb', 'seconds'];
const table = [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${header.map((h) => r[h] ?? '').join(' | ')} |`),
].join('\n');
const what = `seed ${seed}, inputs ${opts.start} to ${opts.runs} per target`;
console.log(`\n${what}\n\n${table}`);
if (opts.out !== undefined) {
  const file = join(opts.out, `fuzz-campaign-${seed}-${positionals.join('-') || 'all'}-${opts.start}.md`);
  writeFileSync(file, `# Fuzz campaign, ${what}\n\n${table}\n`);
  console.log(`written to ${file}`);
}
process.exit(failed ? 1 : 0);
