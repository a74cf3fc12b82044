/**
 * An OVSDB atom as this implementation holds it (RFC 7047 §5.1 <atom>):
 * integers and reals as numbers — integers beyond 2^53 as BigInts, so int64
 * stays exact —, strings and UUIDs as strings, booleans.
 * Its own module because both the schema (enum constraints) and the datum
 * code use it, and the datum code imports the schema.
 */
export type Atom = number | bigint | string | boolean;
