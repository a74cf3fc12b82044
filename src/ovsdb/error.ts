/**
 * OVSDB error objects (RFC 7047 section 4.1.3 and the strings ovsdb-server uses).
 *
 * A transaction that fails returns `{"error": TAG, "details": TEXT}`; the tag is a
 * short fixed string that clients switch on, the details are for people. Every
 * failure inside the engine is thrown as an OvsdbError so the boundary can turn it
 * into that object unchanged.
 */
import { stringifyJson } from '../lib/json-int.js';

export const OVSDB_ERROR = {
  REFERENTIAL_INTEGRITY: 'referential integrity violation',
  CONSTRAINT_VIOLATION: 'constraint violation',
  RESOURCES_EXHAUSTED: 'resources exhausted',
  IO_ERROR: 'I/O error',
  DUPLICATE_UUID_NAME: 'duplicate uuid-name',
  DOMAIN_ERROR: 'domain error',
  RANGE_ERROR: 'range error',
  TIMED_OUT: 'timed out',
  NOT_SUPPORTED: 'not supported',
  ABORTED: 'aborted',
  NOT_OWNER: 'not owner',
  SYNTAX_ERROR: 'syntax error',
  UNKNOWN_DATABASE: 'unknown database',
  UNKNOWN_METHOD: 'unknown method',
  UNKNOWN_COLUMN: 'unknown column',
  UNKNOWN_TABLE: 'unknown table',
  TYPE_MISMATCH: 'type mismatch',
  UNKNOWN_OPERATOR: 'unknown operator',
  DUPLICATE_UUID: 'duplicate uuid',
  PERMISSION_ERROR: 'permission error',
  CANCELED: 'canceled',
  UNKNOWN_MUTATOR: 'unknown mutator',
  UNKNOWN_FUNCTION: 'unknown function',
  OVSDB_ERROR: 'ovsdb error',
} as const;

export type OvsdbErrorTag = (typeof OVSDB_ERROR)[keyof typeof OVSDB_ERROR];

export interface OvsdbErrorJson {
  error: string;
  details?: string;
  syntax?: string;
}

export class OvsdbError extends Error {
  readonly tag: string;
  readonly details: string | undefined;
  readonly syntax: string | undefined;

  constructor(tag: string, details?: string, syntax?: unknown) {
    super(details === undefined ? tag : `${tag}: ${details}`);
    this.name = 'OvsdbError';
    this.tag = tag;
    this.details = details;
    this.syntax = syntax === undefined ? undefined : canonicalJson(syntax);
  }

  toJson(): OvsdbErrorJson {
    const out: OvsdbErrorJson = { error: this.tag };
    if (this.syntax !== undefined) out.syntax = this.syntax;
    if (this.details !== undefined) out.details = this.details;
    return out;
  }

  static fromJson(json: OvsdbErrorJson): OvsdbError {
    return new OvsdbError(json.error, json.details);
  }
}

export function syntaxError(syntax: unknown, details: string): OvsdbError {
  return new OvsdbError(OVSDB_ERROR.SYNTAX_ERROR, details, syntax);
}

export function constraintViolation(details: string): OvsdbError {
  return new OvsdbError(OVSDB_ERROR.CONSTRAINT_VIOLATION, details);
}

/** JSON text with object members in sorted order, as ovsdb-server prints "syntax". */
export function canonicalJson(value: unknown): string {
  return stringifyJson(value, (_k, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
