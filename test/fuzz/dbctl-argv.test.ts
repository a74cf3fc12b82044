/**
 * Fuzz target: `ovnts nbctl` and `sbctl` command lines. Each input is an argv built
 * from the tools' own command tables (every command, its options, arguments drawn
 * from names that exist, addresses and networks in ovn-nbctl's odd-but-accepted and
 * refused forms, column settings, random text), run in-process against an ovnts
 * ovsdb-server. A run must end within HANG_MS with status 0 or 1, never throw, and
 * a failure must say why on stderr in one `ovn-nbctl: ` line (after the log lines
 * the real tools print too). The runs are in-process and each opens a connection, so
 * the smoke run is DEFAULT_RUNS / 4 inputs; a campaign runs all of FUZZ_RUNS (it ran a
 * quarter of them before 2026-12-07: the first 250,000 of seed 1207 are the same inputs).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runCtl, type ToolSpec } from '../../src/dbctl/ctl.js';
import { NBCTL } from '../../src/dbctl/nbctl.js';
import { SBCTL } from '../../src/dbctl/sbctl.js';
import { startServer, SB_SCHEMA, NB_SCHEMA } from '../helpers/ovsdb-servers.js';
import { DEFAULT_RUNS, FuzzTally, HANG_MS, forEachBatch, fuzzSettings, regressions } from './fuzz-env.js';

const settings = fuzzSettings(DEFAULT_RUNS / 4);

const octet = fc.oneof(fc.nat(255).map(String), fc.constantFrom('256', '-4', '+1', ' 7', '0x1', '01', '4294967297', ''));
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const plen = fc.oneof(
  fc.nat(140).map(String),
  fc.constantFrom('-1', '+24', ' 24', '4294967320', '24x', '', '255.255.255.0', '255.0.255.0', 'ffff::'),
);
const ipv6 = fc.oneof(fc.ipV6(), fc.constantFrom(':::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '::ffff:01.2.3.4', 'FD00::1'));
const network = fc.oneof(
  fc.tuple(fc.oneof(ipv4, ipv6, fc.ipV4()), fc.option(plen)).map(([a, p]) => (p === null ? a : `${a}/${p}`)),
  fc.string({ maxLength: 12 }),
);
const mac = fc.oneof(
  fc
    .array(
      fc.oneof(
        fc.nat(255).map((n) => n.toString(16)),
        fc.constantFrom('0g', '000', '+1', '0x1', ''),
      ),
      { minLength: 5, maxLength: 7 },
    )
    .map((g) => g.join(':')),
  fc.constant('00:00:00:00:00:01'),
);
const name = fc.oneof(
  fc.constantFrom('sw0', 'sw1', 'r0', 'p0', 'p1', 'rp0', 'lb0', 'pg0', 'ch0', '.', ''),
  fc.string({ maxLength: 8 }),
  fc.uuid(),
);
const setting = fc
  .tuple(
    fc.constantFrom('name', 'external_ids:k', 'options:a', 'peer', 'tag', 'addresses', 'nope', 'other_config:x'),
    fc.oneof(name, fc.string({ maxLength: 8 })),
  )
  .map(([c, v]) => `${c}=${v}`);
const word = fc.oneof(
  { weight: 4, arbitrary: name },
  { weight: 3, arbitrary: network },
  { weight: 2, arbitrary: mac },
  { weight: 2, arbitrary: fc.tuple(mac, network).map(([m, n]) => `${m} ${n}`) },
  { weight: 1, arbitrary: setting },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'dynamic',
      'router',
      'unknown',
      'from-lport',
      'to-lport',
      'drop',
      'allow',
      'snat',
      'dnat',
      'tcp',
      '1000',
      '-1',
      '99999999999999999999',
    ),
  },
  { weight: 1, arbitrary: fc.fullUnicodeString({ maxLength: 10 }) },
);
/** A log line the real tools print before their error too (e.g. ovsdb_idl's transaction error warning). */
const VLOG_LINE = '\\d{4}-\\d\\d-\\d\\dT[^\\n]*\\|\\d+\\|[a-z_]+\\|[A-Z]+\\|[^\\n]*';
/**
 * How ovn-nbctl ends when --timeout expires (a `wait-until` that never holds): this line, then death by
 * SIGALRM (status 142 from a shell). ovnts ends the same way; the campaign found it (seed 1207).
 */
const ALARM = new RegExp(`^${VLOG_LINE.replace('[a-z_]+', 'fatal_signal')}\\n$`);
const ALARM_TEXT = 'terminating with signal 14 (Alarm clock)';
const OPTIONS = [
  '--may-exist',
  '--if-exists',
  '--ecmp',
  '--policy=src-ip',
  '--columns=name',
  '--bare',
  '--format=json',
  '--type=router',
  '--',
  '--id=@x',
  '--all',
  '-v',
];

function argvFor(tool: ToolSpec): fc.Arbitrary<string[]> {
  const names = tool.commands.map((c) => c.name);
  const one = fc
    .tuple(fc.subarray(OPTIONS, { maxLength: 2 }), fc.constantFrom(...names), fc.array(word, { maxLength: 6 }))
    .map(([o, c, a]) => [...o, c, ...a]);
  // Sometimes several commands in one transaction, separated by "--".
  return fc.array(one, { minLength: 1, maxLength: 3 }).map((cmds) => cmds.flatMap((c, i) => (i === 0 ? c : ['--', ...c])));
}

async function fuzzTool(label: string, tool: ToolSpec, schema: string): Promise<void> {
  const server = await startServer('ovnts', [schema]);
  after(() => server.cleanup());
  const tally = new FuzzTally(label);
  const problems: string[] = [];
  const setup =
    tool === NBCTL
      ? [
          ['ls-add', 'sw0'],
          ['lsp-add', 'sw0', 'p0'],
          ['lr-add', 'r0'],
          ['lrp-add', 'r0', 'rp0', '00:00:00:00:00:01', '10.0.0.1/24'],
        ]
      : [];
  for (const s of setup) await runCtl(tool, [`--db=${server.remote}`, ...s], { stdout: () => {}, stderr: () => {} });
  /** Runs one command line; returns what was wrong with how it ended, if anything. */
  const one = async (argv: string[]): Promise<string | undefined> => {
    tally.inputs++;
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      runCtl(tool, [`--db=${server.remote}`, '--timeout=1', ...argv], { stdout: () => {}, stderr: (s) => (stderr += s) }).then(
        (code) => ({ code }),
        (e: unknown) => ({ thrown: e }),
      ),
      new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), HANG_MS))),
    ]);
    clearTimeout(timer);
    let problem: string | undefined;
    if (outcome === 'hang') {
      tally.hangs++;
      problem = 'no result';
    } else if ('thrown' in outcome) {
      tally.crashes++;
      problem = `threw ${String(outcome.thrown)}`;
    } else if (outcome.code === 142 && argv.includes('wait-until') && ALARM.test(stderr) && stderr.includes(ALARM_TEXT)) {
      // --timeout=1 ran out while waiting, as the real tool's does.
    } else if (outcome.code !== 0 && !new RegExp(`^(${VLOG_LINE}\\n)*${tool.program}: .+\\n$`).test(stderr)) {
      problem = `exit ${outcome.code} with stderr ${JSON.stringify(stderr)}`;
    } else if (outcome.code !== 0 && outcome.code !== 1) {
      problem = `exit ${outcome.code}`;
    }
    return problem;
  };
  // The command lines that once failed the target come first (not when replaying one input).
  if (settings.path === undefined) {
    for (const [i, r] of regressions(label).entries()) {
      const problem = await one(r.input as string[]);
      if (problem !== undefined) problems.push(`regression ${i} (${r.why}): ${problem}`);
    }
  }
  await forEachBatch(
    argvFor(tool),
    settings,
    async (batch, first) => {
      for (const [i, argv] of batch.entries()) {
        const problem = await one(argv);
        if (problem !== undefined && problems.length < 10) problems.push(`input ${first + i} ${JSON.stringify(argv)}: ${problem}`);
      }
    },
    tally,
  );
  if (settings.campaign) for (const p of problems.slice(0, 5)) console.log(`FUZZ-PROBLEM target=${label} ${p}`);
  console.log(tally.line());
  assert.deepEqual(problems, [], `replay one with FUZZ_SEED=${settings.seed} FUZZ_PATH=<input number>`);
}

test('nbctl: any command line ends promptly with a status and, on failure, one error line', () =>
  fuzzTool('dbctl-nbctl', NBCTL, NB_SCHEMA));

test('sbctl: any command line ends promptly with a status and, on failure, one error line', () =>
  fuzzTool('dbctl-sbctl', SBCTL, SB_SCHEMA));
