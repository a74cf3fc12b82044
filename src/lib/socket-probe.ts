/** Whether a daemon is listening on a unix socket, without speaking its protocol. */
import { connect } from 'node:net';

/** True when something accepts connections on the unix socket at `path`. */
export function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
