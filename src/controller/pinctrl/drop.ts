/**
 * Why pinctrl did not answer a packet. The daemon counts these per reason;
 * a malformed packet never raises past the pinctrl API.
 */
import { PacketError } from '../../lib/packet/errors.js';
import { UserdataError } from './userdata.js';

export type DropReason =
  /** The frame is truncated or its headers are inconsistent. */
  | 'malformed-packet'
  /** The frame is not the kind the action handles (e.g. not IPv4/UDP to port 67). */
  | 'unexpected-packet'
  /** The controller-action userdata cannot be decoded or is for another opcode. */
  | 'bad-userdata'
  /** BOOTREPLY sent to the server, or no DHCP message type. */
  | 'not-a-dhcp-request'
  /** A DHCP message type pinctrl does not answer. */
  | 'unsupported-message-type'
  /** A bug in pinctrl: reported as a drop so the daemon keeps serving. */
  | 'internal-error';

export interface Drop {
  readonly drop: DropReason;
  readonly detail: string;
}

export function drop(reason: DropReason, detail: string): Drop {
  return { drop: reason, detail };
}

/** Maps codec and userdata errors to drops; anything else is a bug, still reported as a drop (never thrown). */
export function dropFromError(e: unknown): Drop {
  if (e instanceof PacketError) return drop('malformed-packet', e.message);
  if (e instanceof UserdataError) return drop('bad-userdata', e.message);
  return drop('internal-error', e instanceof Error ? `${e.name}: ${e.message}` : String(e));
}
