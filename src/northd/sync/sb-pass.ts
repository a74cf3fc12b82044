/**
 * What every part of a southbound sync pass shares: the transaction being
 * built, the SB replica it is built against, the NB state it brings the SB to,
 * and the per-table memos that let a pass skip rows it already compared.
 */
import type { OvsdbClient, Txn } from '../../ovsdb/client.js';
import type { NbView } from '../nb-view.js';
import type { RowMemo } from './rows.js';

export interface SbPass {
  readonly txn: Txn;
  readonly sb: OvsdbClient;
  readonly nbv: NbView;
  /** The memo of one SB table, made on first use and kept across passes. */
  memo(table: string): RowMemo;
}

/** The lowest keys from 1 not in `used`, one per call; undefined once `max` is reached. */
export function keyAllocator(used: Set<number>, max: number): () => number | undefined {
  let next = 1;
  return () => {
    while (next <= max && used.has(next)) next++;
    if (next > max) return undefined;
    used.add(next);
    return next++;
  };
}

/** A uuid-name that is unique in a transaction: the kind and the NB row's UUID. */
export function uuidName(kind: string, nbUuid: string): string {
  return `${kind}_${nbUuid.replace(/-/g, '_')}`;
}

export const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
