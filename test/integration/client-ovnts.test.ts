/**
 * The OVSDB client against `ovnts ovsdb-server`: the same suite as against
 * the real ovsdb-server.
 */
import { clientSuite } from './client-suite.js';
import { startServer } from '../helpers/ovsdb-servers.js';
import type { StartOvsdbServer } from '../helpers/real-ovsdb.js';

const startOvnts: StartOvsdbServer = async ({ schemas }) => {
  const s = await startServer('ovnts', schemas);
  return {
    remote: s.remote,
    dir: s.dir,
    kill: () => s.kill9(),
    restart: async () => {
      await s.restart();
    },
    stop: () => s.cleanup(),
  };
};

clientSuite('ovnts ovsdb-server', startOvnts);
