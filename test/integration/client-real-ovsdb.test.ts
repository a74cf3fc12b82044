/**
 * The OVSDB client against the real ovsdb-server (Open vSwitch 3.1).
 */
import { clientSuite } from './client-suite.js';
import { startRealOvsdbServer } from '../helpers/real-ovsdb.js';

clientSuite('real ovsdb-server', startRealOvsdbServer);
