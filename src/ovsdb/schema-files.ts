/**
 * The schemas shipped in this repository's schemas/ folder, found relative to
 * the installed package so that every entry point loads the same files.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const SCHEMA_DIR = fileURLToPath(new URL('../../../schemas/', import.meta.url));

export const SCHEMA_FILES = {
  OVN_Northbound: join(SCHEMA_DIR, 'ovn-nb.ovsschema'),
  OVN_Southbound: join(SCHEMA_DIR, 'ovn-sb.ovsschema'),
  _Server: join(SCHEMA_DIR, '_server.ovsschema'),
} as const;

export function loadSchemaJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}
