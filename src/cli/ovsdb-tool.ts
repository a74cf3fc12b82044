/**
 * `ovnts ovsdb-tool`: the standalone-database commands of ovsdb-tool(1).
 *
 * Unlike the real tool, DBFILE and SCHEMAFILE have no defaults: the real
 * defaults name Open vSwitch's own conf.db, which ovnts must never touch.
 * Errors are one line `ovsdb-tool: <message>` on stderr and exit status 1.
 */
import { readFile } from 'node:fs/promises';
import { parseSchema, type ColumnType, type DatabaseSchema } from '../ovsdb/schema.js';
import { datumFromJson } from '../ovsdb/datum.js';
import { datumToText } from '../ovsdb/datum-text.js';
import { ovsMemberOrder } from '../ovsdb/ovs-member-order.js';
import { stringifyJson } from '../lib/json-int.js';
import { DatabaseLog, readSchemaRecord } from '../ovsdb/storage.js';
import { OvsdbError } from '../ovsdb/error.js';
import { parseCommandLine, type CommandLine } from './command-line.js';

const PROG = 'ovsdb-tool';

export const OVSDB_TOOL_COMMAND_LINE: CommandLine<{ more: number }> = {
  program: PROG,
  summary: 'Open vSwitch database management utility (ovnts)',
  usage: ['ovnts ovsdb-tool [OPTIONS] COMMAND [ARG...]'],
  description: `  create DBFILE SCHEMAFILE    create standalone DBFILE with SCHEMAFILE
  compact DBFILE [DST]        compact DBFILE in place or into DST
  db-name DBFILE              report name of schema used by DBFILE
  db-version DBFILE           report version of schema used by DBFILE
  db-cksum DBFILE             report checksum of schema used by DBFILE
  schema-name SCHEMAFILE      report SCHEMAFILE's name
  schema-version SCHEMAFILE   report SCHEMAFILE's schema version
  schema-cksum SCHEMAFILE     report SCHEMAFILE's checksum
  needs-conversion DBFILE SCHEMAFILE  does DBFILE need conversion to SCHEMAFILE? (yes/no)
  show-log [-m|-mm] DBFILE    print DBFILE's records (their dates and comments;
                              -m also the rows each changes, -mm also their values)
  convert DBFILE SCHEMAFILE [DST]     convert DBFILE to SCHEMAFILE, in place or into DST`,
  options: [
    { name: 'no-chdir', help: 'accepted for compatibility', set: () => undefined },
    {
      name: 'more',
      short: 'm',
      help: 'show-log: also the rows each record changes; twice (-mm), their values',
      set: (o) => void o.more++,
    },
  ],
  defaults: () => ({ more: 0 }),
};

/** A failure to report as `ovsdb-tool: <message>`. */
class ToolError extends Error {}

interface Command {
  readonly min: number;
  readonly max: number;
  readonly run: (args: string[], out: (s: string) => void, more: number) => Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  create: { min: 2, max: 2, run: ([db, schemaFile]) => create(db as string, schemaFile as string) },
  compact: { min: 1, max: 2, run: ([db, dst]) => compact(db as string, dst) },
  'db-name': { min: 1, max: 1, run: async ([db], out) => out((await dbSchema(db as string)).name) },
  'db-version': { min: 1, max: 1, run: async ([db], out) => out((await dbSchema(db as string)).version) },
  'db-cksum': { min: 1, max: 1, run: async ([db], out) => out((await dbSchema(db as string)).cksum ?? '') },
  'schema-name': { min: 1, max: 1, run: async ([f], out) => out((await readSchemaFile(f as string)).name) },
  'schema-version': { min: 1, max: 1, run: async ([f], out) => out((await readSchemaFile(f as string)).version) },
  'needs-conversion': {
    min: 2,
    max: 2,
    run: async ([db, f], out) => out((await needsConversion(db as string, f as string)) ? 'yes' : 'no'),
  },
  'show-log': { min: 1, max: 1, run: ([db], out, more) => showLog(db as string, out, more) },
  convert: { min: 2, max: 3, run: ([db, f, dst]) => convert(db as string, f as string, dst) },
  'schema-cksum': { min: 1, max: 1, run: async ([f], out) => out((await readSchemaFile(f as string)).cksum ?? '') },
};

/** Reads and validates a .ovsschema file, with the real tool's error wording. */
async function readSchemaFile(file: string): Promise<DatabaseSchema> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'No such file or directory' : err.message;
    throw new ToolError(`failed to read schema: "${file}" could not be read as JSON (error opening "${file}": ${why})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ToolError(`failed to read schema: "${file}" could not be read as JSON (${(e as Error).message})`);
  }
  try {
    return parseSchema(json);
  } catch (e) {
    const detail = e instanceof OvsdbError ? (e.details ?? e.tag) : String(e);
    throw new ToolError(`syntax error: failed to parse "${file}" as ovsdb schema: ${detail}`);
  }
}

/** The schema record of a database file. */
async function dbSchema(db: string): Promise<DatabaseSchema> {
  return parseSchema(await readSchemaRecord(db));
}

async function create(db: string, schemaFile: string): Promise<void> {
  const schema = await readSchemaFile(schemaFile);
  const log = await DatabaseLog.create(db, schema.json);
  await log.close();
}

/** Replays the file into memory and rewrites it as schema + one snapshot record. */
async function compact(db: string, dst: string | undefined): Promise<void> {
  // The engine is loaded only here: the other commands need nothing but the file format.
  const { HostedDatabase } = await import('../ovsdb/hosted-database.js');
  const hosted = await HostedDatabase.open(db);
  const snapshot = { ...hosted.db.snapshot(), _date: Date.now(), _comment: 'compacted by ovnts ovsdb-tool' };
  try {
    if (dst === undefined) {
      await hosted.storage?.compact(hosted.db.schema.json, snapshot);
    } else {
      const out = await DatabaseLog.create(dst, hosted.db.schema.json);
      await out.append(snapshot);
      await out.close();
    }
  } finally {
    await hosted.close();
  }
}

/** Whether the file's schema differs from SCHEMAFILE's (in normal form, as ovsdb-tool compares them). */
async function needsConversion(db: string, schemaFile: string): Promise<boolean> {
  const { schemaToText } = await import('../ovsdb/schema-json.js');
  const [a, b] = await Promise.all([dbSchema(db), readSchemaFile(schemaFile)]);
  return schemaToText(a) !== schemaToText(b);
}

/** Converts the database to SCHEMAFILE: the file rewritten (or DST written) as the new schema and one snapshot. */
async function convert(db: string, schemaFile: string, dst: string | undefined): Promise<void> {
  const { HostedDatabase } = await import('../ovsdb/hosted-database.js');
  const { convertDatabase } = await import('../ovsdb/convert.js');
  const schema = await readSchemaFile(schemaFile);
  const hosted = await HostedDatabase.open(db);
  try {
    const converted = convertDatabase(hosted.db, schema);
    if (dst === undefined) {
      await hosted.replace(converted);
    } else {
      const out = await DatabaseLog.create(dst, schema.json);
      await out.append({ ...converted.snapshot(), _date: Date.now(), _comment: 'converted by ovnts ovsdb-tool' });
      await out.close();
    }
  } finally {
    await hosted.close();
  }
}

/**
 * `show-log`: one line per record, as ovsdb-tool prints them (dates in UTC,
 * milliseconds). With `more` (-m) each record is followed by the rows it
 * inserts, changes or deletes, named by their "name" column where they have
 * one; with -mm also the values written. Tables, rows and columns come in
 * the order the real tool walks them (OVS's member order).
 */
async function showLog(db: string, out: (s: string) => void, more: number): Promise<void> {
  const { log, schema, records } = await DatabaseLog.open(db);
  await log.close();
  const s = parseSchema(schema);
  out(`record 0: "${s.name}" schema, version="${s.version}", cksum="${s.cksum ?? ''}"\n`);
  // Row UUID -> the name the tool calls it by, learnt as the records go.
  const names = new Map<string, string>();
  records.forEach((rec, i) => {
    const date = typeof rec['_date'] === 'number' ? ` ${new Date(rec['_date']).toISOString().replace('T', ' ').replace('Z', '')}` : '';
    const comment = typeof rec['_comment'] === 'string' ? ` "${rec['_comment']}"` : '';
    const lines = more > 0 ? recordChanges(rec, s, names, more) : null;
    out(`record ${i + 1}:${date}${comment}${lines === null ? '' : `\n${lines.join('\n')}\n`}`);
  });
}

/** The lines -m (and -mm) print for one record, or null when it names no table. */
function recordChanges(rec: Record<string, unknown>, schema: DatabaseSchema, names: Map<string, string>, more: number): string[] | null {
  const isDiff = rec['_is_diff'] === true;
  let lines: string[] | null = null;
  for (const tableName of ovsMemberOrder(Object.keys(rec))) {
    const rows = rec[tableName];
    if (tableName.startsWith('_') || typeof rows !== 'object' || rows === null || Array.isArray(rows)) continue;
    lines ??= [];
    const table = schema.tables.get(tableName);
    const byUuid = rows as Record<string, unknown>;
    for (const uuid of ovsMemberOrder(Object.keys(byUuid))) {
      const row = byUuid[uuid];
      const cols = typeof row === 'object' && row !== null && !Array.isArray(row) ? (row as Record<string, unknown>) : undefined;
      const short = uuid.slice(0, 8);
      const newName = cols !== undefined && 'name' in cols ? stringifyJson(cols['name']) : undefined;
      const oldName = names.get(uuid);
      if (oldName === undefined) lines.push(`  table ${tableName} insert row ${newName === undefined ? short : `${newName} (${short})`}:`);
      else lines.push(`  table ${tableName} row ${oldName} (${short})${isDiff ? ' diff' : ''}:`);
      if (cols !== undefined) {
        if (more > 1) {
          for (const c of ovsMemberOrder(Object.keys(cols))) lines.push(`    ${c}=${valueText(cols[c], table?.columns.get(c)?.type)}`);
        }
        if (oldName === undefined || (newName !== undefined && newName !== oldName)) names.set(uuid, newName ?? short);
      } else if (row === null) {
        lines.push('    delete row');
        names.delete(uuid);
      }
    }
  }
  return lines;
}

/** A value as the tool prints it: as the column's datum when it parses as one, else as JSON. */
function valueText(json: unknown, type: ColumnType | undefined): string {
  if (type !== undefined) {
    try {
      return datumToText(datumFromJson(json, type), type);
    } catch {
      // Not a datum of that type (a diff the type cannot hold): printed raw, as the real tool does.
    }
  }
  return stringifyJson(json);
}

/** Runs `ovsdb-tool ARGS`; returns the exit status. */
export async function ovsdbTool(args: string[]): Promise<number> {
  const line = parseCommandLine(OVSDB_TOOL_COMMAND_LINE, args);
  if (typeof line === 'number') return line;
  const rest = line.args;
  const more = line.options.more;
  const [name, ...cmdArgs] = rest;
  if (name === undefined) return fail('missing command name; use --help for help');
  const cmd = COMMANDS[name];
  if (cmd === undefined) return fail(`unknown command '${name}'; use --help for help`);
  if (cmdArgs.length < cmd.min) return fail(`'${name}' command requires at least ${cmd.min} arguments`);
  if (cmdArgs.length > cmd.max) return fail(`'${name}' command takes at most ${cmd.max} arguments`);
  try {
    await cmd.run(cmdArgs, (s) => process.stdout.write(`${s}\n`), more);
    return 0;
  } catch (e) {
    if (e instanceof ToolError || e instanceof OvsdbError) return fail(e.message);
    return fail(String((e as Error).message ?? e));
  }
}

function fail(message: string): number {
  process.stderr.write(`${PROG}: ${message}\n`);
  return 1;
}
