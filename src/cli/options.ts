/**
 * The one command-line parser of every ovnts command. A command declares its
 * options in a table (name, short letter, whether it takes a value, a help
 * line, the default); {@link parseOptions} reads argv against the table and
 * {@link renderHelp} prints the same table as the command's `--help`, so the
 * two cannot drift.
 *
 * The rules and the error words are getopt_long's, which every OVS/OVN tool
 * parses with: options and operands may be mixed, `--` ends the options, a
 * long option may be abbreviated to any unique prefix, `--name=VALUE` or
 * `--name VALUE` for a required value but only `--name=VALUE` for an optional
 * one, short options bundle (`-dv`) and take their value attached or as the
 * next word. Node's util.parseArgs has none of abbreviation, optional values
 * or these messages, hence this small parser.
 */

/** What a help line says about an option. */
export interface OptionHelp {
  /** The long name without its dashes (`ovnnb-db`). */
  readonly name: string;
  /** A one-letter alias (`d` for `-d`). */
  readonly short?: string;
  /** Absent: a flag that takes no value. */
  readonly arg?: 'required' | 'optional';
  /** The value's name in help (`--remote=REMOTE`); default VALUE. */
  readonly metavar?: string;
  /** One line; more lines after `\n`. */
  readonly help: string;
  /** Printed as `(default: ...)` under the help line. */
  readonly default?: string;
  /** The help section the option is listed in; default "Options". */
  readonly section?: string;
}

/** A declared option and what it does to the command's options object. */
export interface OptionSpec<O> extends OptionHelp {
  /** Applies the option; `value` is undefined for a flag or an optional value not given. Throws to refuse it. */
  readonly set: (o: O, value: string | undefined) => void;
}

/** How a command describes itself in `--help` and in `ovnts --help`. */
export interface CommandHelp {
  /** As printed before messages (`ovn-northd`). */
  readonly program: string;
  /** One line: what the command is. */
  readonly summary: string;
  /** The usage lines after `usage: ` (`ovnts northd [OPTIONS]`). */
  readonly usage: readonly string[];
  /** Text between the usage and the options. */
  readonly description?: string;
  /** Text after the options. */
  readonly epilog?: string;
}

/** A refused command line: printed as `PROG: message`, exit status 1. */
export class OptionError extends Error {}

/** The options every command takes, listed last as OVS tools list them. */
export const HELP_OPTIONS: readonly OptionHelp[] = [
  { name: 'help', short: 'h', help: 'display this help message', section: 'Other options' },
  { name: 'version', short: 'V', help: 'display version information', section: 'Other options' },
];

export interface ParsedOptions<O> {
  readonly options: O;
  /** The operands, in order (everything not an option, and all after `--`). */
  readonly args: string[];
}

/**
 * Parses `argv` against `table` into `o` (its defaults already set).
 * Returns 'help' or 'version' when asked for; throws {@link OptionError} with
 * getopt_long's message for an unknown option or a missing or unwanted value.
 */
export function parseOptions<O>(argv: readonly string[], table: readonly OptionSpec<O>[], o: O): ParsedOptions<O> | 'help' | 'version' {
  const all: readonly (OptionSpec<O> | OptionHelp)[] = [...table, ...HELP_OPTIONS];
  const args: string[] = [];
  let asked: 'help' | 'version' | undefined;
  const apply = (spec: OptionSpec<O> | OptionHelp, value: string | undefined): void => {
    if (spec.name === 'help' || spec.name === 'version') asked = spec.name;
    else (spec as OptionSpec<O>).set(o, value);
  };
  // --help and --version answer at once, as the OVS tools' usage() exits.
  for (let i = 0; i < argv.length && asked === undefined; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      const spec = findLong(all, name, a);
      const flag = `--${spec.name}`;
      if (spec.arg === undefined) {
        if (inline !== undefined) throw new OptionError(`option '${flag}' doesn't allow an argument`);
        apply(spec, undefined);
      } else if (inline !== undefined || spec.arg === 'optional') {
        apply(spec, inline);
      } else {
        const next = argv[++i];
        if (next === undefined) throw new OptionError(`option '${flag}' requires an argument`);
        apply(spec, next);
      }
    } else if (a.startsWith('-') && a !== '-') {
      // A bundle of short options: each flag, until one that takes a value takes the rest.
      for (let j = 1; j < a.length && asked === undefined; j++) {
        const letter = a[j] as string;
        const spec = all.find((s) => s.short === letter);
        if (spec === undefined) throw new OptionError(`invalid option -- '${letter}'`);
        if (spec.arg === undefined) {
          apply(spec, undefined);
          continue;
        }
        const rest = a.slice(j + 1);
        if (rest !== '' || spec.arg === 'optional') apply(spec, rest === '' ? undefined : rest);
        else {
          const next = argv[++i];
          if (next === undefined) throw new OptionError(`option requires an argument -- '${letter}'`);
          apply(spec, next);
        }
        break;
      }
    } else {
      args.push(a);
    }
  }
  return asked ?? { options: o, args };
}

/** The option `--name` names: itself, or the one option it is a prefix of. */
function findLong<T extends OptionHelp>(all: readonly T[], name: string, arg: string): T {
  const exact = all.find((s) => s.name === name);
  if (exact !== undefined) return exact;
  const matches = name === '' ? [] : all.filter((s) => s.name.startsWith(name));
  if (matches.length === 1) return matches[0] as T;
  if (matches.length === 0) throw new OptionError(`unrecognized option '${arg}'`);
  throw new OptionError(`option '${arg}' is ambiguous; possibilities:${matches.map((m) => ` '--${m.name}'`).join('')}`);
}

/** Where help text starts on an option's line, as in the OVS tools' help. */
const HELP_COLUMN = 26;

/** `-d, --ovnnb-db=DATABASE`, `--pidfile[=FILE]`, `-v, --verbose[=SPEC]`. */
export function optionSynopsis(s: OptionHelp): string {
  const value = s.metavar ?? 'VALUE';
  const long = s.arg === 'required' ? `--${s.name}=${value}` : s.arg === 'optional' ? `--${s.name}[=${value}]` : `--${s.name}`;
  return s.short === undefined ? long : `-${s.short}, ${long}`;
}

/** One option's help lines. */
function optionLines(s: OptionHelp): string {
  const left = `  ${optionSynopsis(s)}`;
  const [first = '', ...more] = s.help.split('\n');
  const pad = ' '.repeat(HELP_COLUMN);
  const head = left.length < HELP_COLUMN - 1 ? left.padEnd(HELP_COLUMN) : `${left}  `;
  const tail = [...more, ...(s.default === undefined ? [] : `(default: ${s.default})`.split('\n'))];
  return [`${head}${first}`, ...tail.map((l) => `${pad}${l}`)].join('\n') + '\n';
}

/** The `--help` text: the command's description, then its options by section, then -h and -V. */
export function renderHelp(h: CommandHelp, table: readonly OptionHelp[]): string {
  const sections = new Map<string, OptionHelp[]>();
  for (const s of [...table, ...HELP_OPTIONS]) {
    const name = s.section ?? 'Options';
    sections.set(name, [...(sections.get(name) ?? []), s]);
  }
  // "Other options" (help, version) always last, as the OVS tools print them.
  const other = sections.get('Other options');
  sections.delete('Other options');
  if (other !== undefined) sections.set('Other options', other);
  const usage = h.usage.map((u, i) => `${i === 0 ? 'usage: ' : '       '}${u}\n`).join('');
  const body = [...sections].map(([name, opts]) => `${name}:\n${opts.map(optionLines).join('')}`).join('\n');
  return `${h.program}: ${h.summary}\n${usage}${h.description === undefined ? '' : `${h.description}\n`}\n${body}${h.epilog === undefined ? '' : `\n${h.epilog}`}`;
}

/** Long names of the table's options, as `--name` (for tests and docs checks). */
export function optionNames(table: readonly OptionHelp[]): string[] {
  return table.map((s) => `--${s.name}`);
}

/** The value of a required option that must not be empty either (`--bridge=`). */
export function nonEmpty(name: string, v: string | undefined): string {
  if (v === undefined || v === '') throw new OptionError(`option '--${name}' requires an argument`);
  return v;
}
