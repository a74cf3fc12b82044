/**
 * `mkdir -p` that fails instead of hanging: Node's recursive mkdirSync loops
 * forever where mkdir(2) answers ENOENT for a path whose parent exists (under
 * /proc), so a daemon given such a directory would spin at start-up instead of
 * failing with one line.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoText } from './errno-text.js';

/** Makes `dir` and its missing parents, one level at a time; throws `DIR: mkdir failed (REASON)`. */
export function makeDirectory(dir: string): void {
  const parent = dirname(dir);
  if (parent !== dir && !existsSync(parent)) makeDirectory(parent);
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(dir).isDirectory()) return;
    throw new Error(`${dir}: mkdir failed (${errnoText(e)})`);
  }
}
