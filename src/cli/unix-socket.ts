/**
 * An HTTP server of the daemons that serve on a unix socket (the Docker
 * plugin, the CNI agent): the socket's directory made, a stale socket left
 * by a killed predecessor replaced, and the socket removed on the way out.
 */
import { unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Server } from 'node:http';
import { makeDirectory } from '../lib/make-directory.js';

/** Listens on `path`; rejects with the reason when it cannot. */
export async function listenUnix(server: Server, path: string): Promise<void> {
  makeDirectory(dirname(path));
  removeSocket(path);
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(path, () => {
      server.off('error', fail);
      done();
    });
  });
}

/** Removes the socket file; already gone is fine. */
export function removeSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // no socket there
  }
}
