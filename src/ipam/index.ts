/** The Neutron v2.0 API over the NB: `createIpamServer` and the auth seam. */
export { createIpamServer, type IpamServer, type IpamServerOptions } from './server.js';
export { createNoAuth, NOAUTH_PROJECT_ID, type Authenticator, type RequestContext, type AuthFailure } from './context.js';
