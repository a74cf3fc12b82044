/**
 * The OVSDB client against `ovnts ovsdb-server`: the same suite as against
 * the real ovsdb-server.
 */
import { clientSuite } from './client-suite.js';
import { starterFor } from '../helpers/ovsdb-servers.js';

clientSuite('ovnts ovsdb-server', starterFor('ovnts'));
