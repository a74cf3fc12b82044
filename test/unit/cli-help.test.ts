/**
 * Every ovnts command answers --help and --version and refuses what it does
 * not declare: the test walks the command table of src/cli/main.ts (and the
 * container tools), runs each through bin/, and checks the help names every
 * option the command declares. The parser's errors are compared with the
 * real ovsdb-server's (both parse with getopt_long's rules and words), and
 * every command's docs page must name the same options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, mainHelp } from '../../src/cli/main.js';
import { optionSynopsis, parseOptions, renderHelp, type OptionHelp, type OptionSpec } from '../../src/cli/options.js';
import { OVN_CONTAINER_COMMAND_LINE } from '../../src/cli/ovn-container.js';
import { OVN_INTEGRATE_COMMAND_LINE } from '../../src/cli/ovn-integrate.js';
import { CNI_COMMAND_LINE } from '../../src/cli/cni.js';
import { NBCTL } from '../../src/dbctl/nbctl.js';
import { SBCTL } from '../../src/dbctl/sbctl.js';
import { NB_COMMAND_HELP, SB_COMMAND_HELP, commandsHelp } from '../../src/cli/ctl-help.js';
import { run } from '../helpers/proc.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = (name: string): string => join(REPO, 'bin', name);
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** The declared options the help text does not name (long form, and short when there is one). */
function missingFromHelp(help: string, options: readonly OptionHelp[]): string[] {
  const missing: string[] = [];
  for (const o of options) {
    if (!help.includes(`--${o.name}`)) missing.push(`--${o.name}`);
    if (o.short !== undefined && !new RegExp(`(^|[\\s,\`])-${o.short}\\b`, 'm').test(help)) missing.push(`-${o.short}`);
  }
  return missing;
}

/** Runs `f` over `items` four at a time: parallel enough to be quick, not so much that a loaded machine times a run out. */
async function fourAtATime<T>(items: readonly T[], f: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += 4) await Promise.all(items.slice(i, i + 4).map(f));
}

/** A run of a command that only parses its command line: generous, for a machine under load. */
const cli = (cmd: string, args: readonly string[]): ReturnType<typeof run> => run(cmd, args, { timeoutMs: 120_000 });

/** Every command the user can run: `ovnts CMD` and the container tools. */
async function allCommands(): Promise<Array<{ argv: [string, ...string[]]; summary: string; options: readonly OptionHelp[] }>> {
  const out: Array<{ argv: [string, ...string[]]; summary: string; options: readonly OptionHelp[] }> = [];
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const loaded = await entry.load();
    assert.equal(loaded.summary, entry.summary, `${name}: the table's line and the command's own --help say the same`);
    out.push({ argv: [BIN('ovnts'), name], summary: entry.summary, options: loaded.options });
  }
  for (const [bin, c] of [
    ['ovn-integrate', OVN_INTEGRATE_COMMAND_LINE],
    ['ovn-container', OVN_CONTAINER_COMMAND_LINE],
    ['ovnts-cni', CNI_COMMAND_LINE],
  ] as const) {
    out.push({ argv: [BIN(bin)], summary: c.summary, options: c.options });
  }
  return out;
}

test('ovnts --help lists every command of the table with its line; --version prints the package version', async () => {
  const r = await cli(BIN('ovnts'), ['--help']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, mainHelp());
  for (const [name, c] of Object.entries(COMMANDS))
    assert.match(r.stdout, new RegExp(`^  ${name} .*${c.summary.replace(/[()]/g, '\\$&')}$`, 'm'));
  const v = await cli(BIN('ovnts'), ['--version']);
  assert.deepEqual([v.code, v.stdout], [0, `ovnts ${VERSION}\n`]);
  const none = await cli(BIN('ovnts'), []);
  assert.equal(none.code, 1, 'no command is a usage error');
  const bad = await cli(BIN('ovnts'), ['no-such-command']);
  assert.deepEqual([bad.code, bad.stderr], [1, "ovnts: unknown command 'no-such-command'; use --help for help\n"]);
});

test('every command answers --help (exit 0, stdout) naming every option it declares', async () => {
  await fourAtATime(await allCommands(), async (c) => {
    const [cmd, ...pre] = c.argv;
    const [r, h] = await Promise.all([cli(cmd, [...pre, '--help']), cli(cmd, [...pre, '-h'])]);
    const what = c.argv.slice(1).join(' ') || cmd;
    assert.equal(r.code, 0, `${what} --help: ${r.stderr}`);
    assert.equal(r.stderr, '', what);
    assert.ok(r.stdout.split('\n')[0]?.includes(c.summary), `${what}: the help starts with its summary`);
    assert.deepEqual(missingFromHelp(r.stdout, c.options), [], `${what}: declared options missing from --help`);
    for (const o of c.options) assert.ok(r.stdout.includes(optionSynopsis(o)), `${what}: ${optionSynopsis(o)} in --help`);
    // -h is the same as --help.
    assert.deepEqual([h.code, h.stdout], [0, r.stdout], `${what} -h`);
  });
});

test('every command answers --version with the package version', async () => {
  await fourAtATime(await allCommands(), async (c) => {
    const [cmd, ...pre] = c.argv;
    const r = await cli(cmd, [...pre, '--version']);
    assert.equal(r.code, 0, `${c.argv.join(' ')} --version: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^\\S.* \\(ovnts\\) ${VERSION.replace(/\./g, '\\.')}\\n$`));
  });
});

test('an option no command declares is refused with one line on stderr and status 1', async () => {
  await fourAtATime(await allCommands(), async (c) => {
    const [cmd, ...pre] = c.argv;
    const r = await cli(cmd, [...pre, '--no-such-option']);
    const what = c.argv.slice(1).join(' ') || cmd;
    assert.equal(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^[^\n]+: unrecognized option '--no-such-option'\n$/, what);
    assert.equal(r.stdout, '', what);
  });
});

test("the parser's errors are ovsdb-server's own, word for word", async () => {
  const cases = [
    ['--frob'],
    ['--frob=1'],
    ['--remote'],
    ['--detach=1'],
    ['--det=1'],
    ['-Z'],
    ['-p'],
    ['--run'],
    ['--remote=punix:x', '-x'],
  ];
  await fourAtATime(cases, async (args) => {
    const [ours, real] = await Promise.all([cli(BIN('ovnts'), ['ovsdb-server', ...args]), cli('ovsdb-server', args)]);
    assert.deepEqual([ours.code, ours.stderr], [real.code, real.stderr], args.join(' '));
  });
  // An ambiguous prefix names the same candidates (getopt lists them in its table's order).
  const words = (s: string): string[] => [...s.matchAll(/'(--[a-z-]+)'/g)].map((m) => m[1] as string).sort();
  const ours = await cli(BIN('ovnts'), ['ovsdb-server', '--p=x']);
  const real = await cli('ovsdb-server', ['--p=x']);
  assert.equal(ours.code, real.code);
  assert.match(ours.stderr, /^ovsdb-server: option '--p=x' is ambiguous; possibilities:/);
  assert.deepEqual(words(ours.stderr), words(real.stderr));
});

test('getopt_long rules: abbreviations, attached and separate values, bundles, optional values, --', () => {
  type O = { a: boolean; b: boolean; v: string[]; file: string | undefined; db: string[] };
  const table: OptionSpec<O>[] = [
    { name: 'all', short: 'a', help: 'a', set: (o) => void (o.a = true) },
    { name: 'bare', short: 'b', help: 'b', set: (o) => void (o.b = true) },
    { name: 'verbose', short: 'v', arg: 'optional', help: 'v', set: (o, x) => void o.v.push(x ?? '') },
    { name: 'pidfile', arg: 'optional', help: 'p', set: (o, x) => void (o.file = x ?? 'default') },
    { name: 'db', short: 'd', arg: 'required', help: 'd', set: (o, x) => void o.db.push(x ?? '') },
    { name: 'dbx', arg: 'required', help: 'd', set: (o, x) => void o.db.push(`x${x ?? ''}`) },
  ];
  const fresh = (): O => ({ a: false, b: false, v: [], file: undefined, db: [] });
  const p = parseOptions(
    ['x', '-ab', '--pid', '-vdbg', '--verbose', '-dA', '-d', 'B', '--db=C', '--db', 'D', 'y', '--', '--all'],
    table,
    fresh(),
  );
  assert.notEqual(typeof p, 'string');
  if (typeof p === 'string') return;
  assert.deepEqual(p.options, { a: true, b: true, v: ['dbg', ''], file: 'default', db: ['A', 'B', 'C', 'D'] });
  assert.deepEqual(p.args, ['x', 'y', '--all']);
  // An optional value is only ever attached: the next word stays an operand.
  const q = parseOptions(['--pidfile', 'f'], table, fresh());
  assert.ok(typeof q !== 'string' && q.options.file === 'default' && q.args[0] === 'f');
  // --help answers at once, as the OVS tools' usage() exits: what follows is not looked at.
  assert.equal(parseOptions(['-a', '--help', '--bogus'], table, fresh()), 'help');
  assert.equal(parseOptions(['--versi'], table, fresh()), 'version');
  assert.throws(() => parseOptions(['--ver'], table, fresh()), {
    message: "option '--ver' is ambiguous; possibilities: '--verbose' '--version'",
  });
  for (const [args, message] of [
    [['--bogus=1'], "unrecognized option '--bogus=1'"],
    [['--d'], "option '--d' is ambiguous; possibilities: '--db' '--dbx'"],
    [['--al=1'], "option '--all' doesn't allow an argument"],
    [['--dbx'], "option '--dbx' requires an argument"],
    [['-ad'], "option requires an argument -- 'd'"],
    [['-q'], "invalid option -- 'q'"],
  ] as const) {
    assert.throws(() => parseOptions(args, table, fresh()), { message }, args.join(' '));
  }
});

test('the help check fails when a declared option is left out of the help', () => {
  const table: OptionHelp[] = [
    { name: 'listen', arg: 'required', metavar: 'ADDR', help: 'where' },
    { name: 'quiet', short: 'q', help: 'less' },
  ];
  const help = renderHelp({ program: 'x', summary: 'y', usage: ['x'] }, table);
  assert.deepEqual(missingFromHelp(help, table), []);
  assert.deepEqual(missingFromHelp(help.replace('--listen=ADDR', ''), table), ['--listen']);
  assert.deepEqual(missingFromHelp(help.replace('-q, ', ''), table), ['-q']);
});

test("nbctl and sbctl help list every command the engine has, with the engine's per-command options", () => {
  for (const [tool, help] of [
    [NBCTL, NB_COMMAND_HELP],
    [SBCTL, SB_COMMAND_HELP],
  ] as const) {
    const text = commandsHelp(tool, help);
    for (const c of tool.commands) {
      assert.match(text, new RegExp(`^  ${c.name}( |$)`, 'm'), `${tool.program}: ${c.name}`);
      for (const o of c.options) assert.ok(text.includes(`[${o}`), `${tool.program} ${c.name}: ${o}`);
    }
    // A command the engine gains without a help line is an error, not a silent omission.
    assert.throws(
      () => commandsHelp({ ...tool, commands: [...tool.commands, { ...tool.commands[0]!, name: 'new-cmd' }] }, help),
      /no help for new-cmd/,
    );
  }
});

test('every nbctl and sbctl option the help names is one the tool accepts', async () => {
  const value = (o: OptionHelp): string =>
    ({ wait: 'none', format: 'list', data: 'bare', timeout: '1', db: 'unix:/nonexistent/db.sock' })[o.name] ?? '/dev/null';
  for (const name of ['nbctl', 'sbctl']) {
    const { options } = await COMMANDS[name]!.load();
    const args = options.map((o) => (o.arg === 'required' ? `--${o.name}=${value(o)}` : `--${o.name}`));
    // No database there: accepted options get as far as connecting and fail on that, not on an option.
    const r = await cli(BIN('ovnts'), [name, ...args, 'show']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /database connection failed|nonexistent/, `${name}: ${r.stderr}`);
    const shorts = options.filter((o) => o.short !== undefined).map((o) => `-${o.short as string}${o.arg === 'required' ? value(o) : ''}`);
    const s = await cli(BIN('ovnts'), [name, '--db=unix:/nonexistent/db.sock', ...shorts, 'show']);
    assert.match(s.stderr, /database connection failed|nonexistent/, `${name} ${shorts.join(' ')}: ${s.stderr}`);
  }
});

/** The docs page of a command: docs/ovnts-CMD.md, or docs/TOOL.md for the container tools. */
function docsPage(argv: readonly string[]): string {
  const file = argv.length > 1 ? `ovnts-${argv[1] as string}.md` : `${(argv[0] as string).split('/').pop() as string}.md`;
  return join(REPO, 'docs', file);
}

test('every command has a docs page with NAME, SYNOPSIS, DESCRIPTION, OPTIONS, SEE ALSO naming every option it declares', async () => {
  for (const c of await allCommands()) {
    const page = docsPage(c.argv);
    assert.ok(existsSync(page), `${page} exists`);
    const text = readFileSync(page, 'utf8');
    for (const h of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXAMPLES', 'SEE ALSO'])
      assert.match(text, new RegExp(`^## ${h}$`, 'm'), `${page}: ${h}`);
    assert.deepEqual(missingFromHelp(text, c.options), [], `${page}: declared options missing`);
    // Each option has its own entry, written as its --help writes it.
    for (const o of c.options) assert.ok(text.includes(`- \`${optionSynopsis(o)}\`: `), `${page}: an entry for ${optionSynopsis(o)}`);
    // And nothing the page documents as an option is unknown to the command.
    const declared = new Set([...c.options.map((o) => o.name), 'help', 'version']);
    const documented = [...text.matchAll(/^[*-] `(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1] as string);
    assert.deepEqual(
      documented.filter((d) => !declared.has(d)),
      [],
      `${page}: options documented but not declared`,
    );
  }
});

test('the nbctl and sbctl pages list the commands exactly as their --help does', () => {
  for (const [page, tool, help] of [
    ['ovnts-nbctl.md', NBCTL, NB_COMMAND_HELP],
    ['ovnts-sbctl.md', SBCTL, SB_COMMAND_HELP],
  ] as const) {
    const text = readFileSync(join(REPO, 'docs', page), 'utf8');
    assert.ok(text.includes(`## COMMANDS\n\n\`\`\`\n${commandsHelp(tool, help)}`), `${page}: COMMANDS is the help's`);
  }
});
