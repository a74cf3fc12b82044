/**
 * Name-or-UUID arguments (CONTAINERS.md §2.1): a UUID is used as it is,
 * anything else is looked up by name, and must match exactly one.
 */
import type { NeutronClient } from '../host/neutron.js';
import { ToolError } from './settings.js';

/** The canonical form of a UUID argument (dashes optional, as python's uuid.UUID takes it), or undefined. */
export function asUuid(s: string): string | undefined {
  const hex = s.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** One network or port by name: exactly one must match (the 2015 tool's words when not). */
async function byName(list: () => Promise<ReadonlyArray<{ id: string }>>, kind: 'network' | 'endpoint'): Promise<string> {
  const found = await list();
  if (found.length > 1) throw new ToolError(`More than one ${kind} for the given name, provide uuid instead.`);
  const first = found[0];
  if (first === undefined)
    throw new ToolError(
      kind === 'network'
        ? 'No network with the given name\nFailed to get network by name'
        : 'No endpoint with the given name.\nFailed to get endpoint by name',
    );
  return first.id;
}

export async function networkId(n: NeutronClient, arg: string): Promise<string> {
  return asUuid(arg) ?? byName(() => n.listNetworks({ fields: 'id', name: arg }), 'network');
}

export async function endpointId(n: NeutronClient, arg: string): Promise<string> {
  return asUuid(arg) ?? byName(() => n.listPorts({ fields: 'id', name: arg }), 'endpoint');
}
