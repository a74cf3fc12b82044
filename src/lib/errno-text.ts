/**
 * strerror(3)'s words for the errors that files, sockets and connections
 * give, as OVS and OVN print them in parentheses ("... (No such file or
 * directory)"). Node reports the symbolic code; the C library's sentence is
 * what operators and scripts know.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';

const TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ETIMEDOUT: 'Connection timed out',
  ENAMETOOLONG: 'File name too long',
  EPIPE: 'Broken pipe',
  EPROTO: 'Protocol error',
};

/** The sentence for `code` (an errno name such as `ENOENT`), or undefined for one not in the table. */
export function errnoSentence(code: string | undefined): string | undefined {
  return code === undefined ? undefined : TEXT[code];
}

/** The sentence for an error's errno code, or its message when it has no known code. */
export function errnoText(e: unknown): string {
  return errnoSentence((e as NodeJS.ErrnoException).code) ?? (e instanceof Error ? e.message : String(e));
}

/**
 * The sentence for a failed bind(2) of a unix socket at `path`. libuv reports
 * a socket in a directory that does not exist as EACCES; bind(2) (and so OVS)
 * says ENOENT.
 */
export function bindErrnoText(e: unknown, path: string): string {
  if ((e as NodeJS.ErrnoException).code === 'EACCES' && !existsSync(dirname(path))) return TEXT['ENOENT'] as string;
  return errnoText(e);
}
