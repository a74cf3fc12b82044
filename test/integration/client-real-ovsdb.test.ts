/**
 * The OVSDB client against the real ovsdb-server (Open vSwitch 3.1).
 */
import { clientSuite } from './client-suite.js';
import { starterFor } from '../helpers/ovsdb-servers.js';

clientSuite('real ovsdb-server', starterFor('real'));
