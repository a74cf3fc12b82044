/**
 * The environment the OpenStack clients read for Keystone v3 password auth
 * against `ovnts ipam --auth=keystone` (or any Keystone): what an openrc file
 * exports, everything in the Default domain.
 */
export function passwordAuthEnv(authUrl: string, user: string, password: string, project: string): Record<string, string> {
  return {
    OS_AUTH_URL: authUrl,
    OS_IDENTITY_API_VERSION: '3',
    OS_USERNAME: user,
    OS_PASSWORD: password,
    OS_PROJECT_NAME: project,
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
  };
}

/** The port `ovnts ipam --listen=ADDR:0` (or `ovnts up --ipam=ADDR:0`) says it serves on, from one of its log lines. */
export function servedPort(line: string): string | undefined {
  return /(?:ovnts ipam serving|Neutron API) http:\/\/[^/]*:(\d+)\//.exec(line)?.[1];
}
