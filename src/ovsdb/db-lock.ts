/**
 * The lock file beside a database file (`.NAME.~lock~`, as ovsdb-server and
 * ovsdb-tool make it), so that two servers never open one database.
 *
 * OVS holds a POSIX record lock on that file; Node cannot take one, so ovnts
 * writes its pid into the file and treats the lock as held while that process
 * lives. A lock the real tools hold is seen in /proc/locks, so ovnts also
 * refuses a file a real ovsdb-server has open.
 */
import { openSync, readFileSync, statSync, unlinkSync, writeSync, closeSync, constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoText } from '../lib/errno-text.js';

export class DatabaseLockError extends Error {}

export function lockfilePath(dbPath: string): string {
  return join(dirname(dbPath), `.${basename(dbPath)}.~lock~`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid holding a POSIX or flock lock on `path`, from /proc/locks. */
function kernelLockOwner(path: string): number | undefined {
  let st;
  let locks: string;
  try {
    st = statSync(path);
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  const major = Math.floor(st.dev / 256) & 0xfff;
  const minor = (st.dev & 0xff) | (Math.floor(st.dev / 4096) & 0xfff00);
  const dev = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
  for (const line of locks.split('\n')) {
    const f = line.trim().split(/\s+/);
    // "1: POSIX  ADVISORY  WRITE 13479 fe:00:2148053 0 EOF"
    if (f[5] === dev && f[4] !== undefined && Number(f[4]) !== process.pid && Number(f[4]) > 0) return Number(f[4]);
  }
  return undefined;
}

function pidIn(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export interface DatabaseLock {
  release(): void;
}

/**
 * Takes the lock for `dbPath` or throws DatabaseLockError with ovsdb-server's
 * words; `warn` gets the lockfile module's warning line first.
 */
export function lockDatabase(dbPath: string, warn: (msg: string) => void = () => undefined): DatabaseLock {
  const lock = lockfilePath(dbPath);
  const owner = kernelLockOwner(lock) ?? pidIn(lock);
  if (owner !== undefined && owner !== process.pid && alive(owner)) {
    warn(`${lock}: cannot lock file because it is already locked by pid ${owner}`);
    throw new DatabaseLockError(`I/O error: ${dbPath}: failed to lock lockfile (Resource temporarily unavailable)`);
  }
  let fd: number;
  try {
    fd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  } catch (e) {
    throw new DatabaseLockError(`I/O error: ${dbPath}: failed to lock lockfile (${errnoText(e)})`);
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return {
    release: () => {
      // Leave the file (OVS does) but not our claim on it.
      if (pidIn(lock) !== process.pid) return;
      try {
        unlinkSync(lock);
      } catch {
        // gone already
      }
    },
  };
}
