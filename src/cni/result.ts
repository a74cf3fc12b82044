/**
 * The ADD result in the version the runtime asked for (SPEC.md "Success"):
 * 1.x has `interfaces`, `ips`, `routes`, `dns`; 0.3.x and 0.4.0 the same
 * with a `version` ("4"/"6") in every ips entry.
 */
import { compareVersions } from './config.js';

export interface Attachment {
  readonly hostIf: { readonly name: string; readonly mac?: string };
  readonly containerIf: { readonly name: string; readonly mac: string; readonly sandbox: string; readonly mtu?: number };
  /** `a.b.c.d/len` */
  readonly address: string;
  readonly gateway?: string;
}

export function formatResult(cniVersion: string, a: Attachment): Record<string, unknown> {
  const v1 = compareVersions(cniVersion, '1.0.0') >= 0;
  const withMtu = compareVersions(cniVersion, '1.1.0') >= 0 && a.containerIf.mtu !== undefined;
  const family = a.address.includes(':') ? '6' : '4';
  return {
    cniVersion,
    interfaces: [
      { name: a.hostIf.name, ...(a.hostIf.mac === undefined ? {} : { mac: a.hostIf.mac }) },
      { name: a.containerIf.name, mac: a.containerIf.mac, sandbox: a.containerIf.sandbox, ...(withMtu ? { mtu: a.containerIf.mtu } : {}) },
    ],
    ips: [
      { ...(v1 ? {} : { version: family }), address: a.address, ...(a.gateway === undefined ? {} : { gateway: a.gateway }), interface: 1 },
    ],
    ...(a.gateway === undefined ? {} : { routes: [{ dst: family === '4' ? '0.0.0.0/0' : '::/0', gw: a.gateway }] }),
    dns: {},
  };
}

/** What CHECK expects from a prevResult: the sandbox interface and its addresses. */
export interface Expected {
  readonly ifname: string;
  readonly mac: string | undefined;
  readonly addresses: readonly string[];
}

export function expectedFrom(prev: Record<string, unknown>, ifname: string, netns: string): Expected | undefined {
  const ifs = Array.isArray(prev['interfaces']) ? (prev['interfaces'] as Array<Record<string, unknown>>) : [];
  const idx = ifs.findIndex((i) => i['name'] === ifname && (i['sandbox'] === netns || i['sandbox'] !== undefined));
  if (idx < 0) return undefined;
  const ips = Array.isArray(prev['ips']) ? (prev['ips'] as Array<Record<string, unknown>>) : [];
  return {
    ifname,
    mac: typeof ifs[idx]!['mac'] === 'string' ? ifs[idx]!['mac'] : undefined,
    addresses: ips.filter((ip) => ip['interface'] === idx).map((ip) => String(ip['address'])),
  };
}
