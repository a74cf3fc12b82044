/**
 * OpenFlow error type/code names (OpenFlow 1.5 §7.5.4 ofp_error_type and
 * the per-type code enums), spelled as OVS prints them (OFPBRC_BAD_LEN...).
 * Nicira errors arrive as OFPET_EXPERIMENTER with experimenter 0x00002320.
 */

const T: Record<number, [string, string, readonly string[]]> = {
  0: ['OFPET_HELLO_FAILED', 'OFPHFC', ['INCOMPATIBLE', 'EPERM']],
  1: [
    'OFPET_BAD_REQUEST',
    'OFPBRC',
    [
      'BAD_VERSION',
      'BAD_TYPE',
      'BAD_MULTIPART',
      'BAD_EXPERIMENTER',
      'BAD_EXP_TYPE',
      'EPERM',
      'BAD_LEN',
      'BUFFER_EMPTY',
      'BUFFER_UNKNOWN',
      'BAD_TABLE_ID',
      'IS_SLAVE',
      'BAD_PORT',
      'BAD_PACKET',
      'MULTIPART_BUFFER_OVERFLOW',
      'MULTIPART_REQUEST_TIMEOUT',
      'MULTIPART_REPLY_TIMEOUT',
    ],
  ],
  2: [
    'OFPET_BAD_ACTION',
    'OFPBAC',
    [
      'BAD_TYPE',
      'BAD_LEN',
      'BAD_EXPERIMENTER',
      'BAD_EXP_TYPE',
      'BAD_OUT_PORT',
      'BAD_ARGUMENT',
      'EPERM',
      'TOO_MANY',
      'BAD_QUEUE',
      'BAD_OUT_GROUP',
      'MATCH_INCONSISTENT',
      'UNSUPPORTED_ORDER',
      'BAD_TAG',
      'BAD_SET_TYPE',
      'BAD_SET_LEN',
      'BAD_SET_ARGUMENT',
    ],
  ],
  3: [
    'OFPET_BAD_INSTRUCTION',
    'OFPBIC',
    [
      'UNKNOWN_INST',
      'UNSUP_INST',
      'BAD_TABLE_ID',
      'UNSUP_METADATA',
      'UNSUP_METADATA_MASK',
      'BAD_EXPERIMENTER',
      'BAD_EXP_TYPE',
      'BAD_LEN',
      'EPERM',
      'DUP_INST',
    ],
  ],
  4: [
    'OFPET_BAD_MATCH',
    'OFPBMC',
    [
      'BAD_TYPE',
      'BAD_LEN',
      'BAD_TAG',
      'BAD_DL_ADDR_MASK',
      'BAD_NW_ADDR_MASK',
      'BAD_WILDCARDS',
      'BAD_FIELD',
      'BAD_VALUE',
      'BAD_MASK',
      'BAD_PREREQ',
      'DUP_FIELD',
      'EPERM',
    ],
  ],
  5: [
    'OFPET_FLOW_MOD_FAILED',
    'OFPFMFC',
    [
      'UNKNOWN',
      'TABLE_FULL',
      'BAD_TABLE_ID',
      'OVERLAP',
      'EPERM',
      'BAD_TIMEOUT',
      'BAD_COMMAND',
      'BAD_FLAGS',
      'CANT_SYNC',
      'BAD_PRIORITY',
      'IS_SYNC',
    ],
  ],
  6: [
    'OFPET_GROUP_MOD_FAILED',
    'OFPGMFC',
    [
      'GROUP_EXISTS',
      'INVALID_GROUP',
      'WEIGHT_UNSUPPORTED',
      'OUT_OF_GROUPS',
      'OUT_OF_BUCKETS',
      'CHAINING_UNSUPPORTED',
      'WATCH_UNSUPPORTED',
      'LOOP',
      'UNKNOWN_GROUP',
      'CHAINED_GROUP',
      'BAD_TYPE',
      'BAD_COMMAND',
      'BAD_BUCKET',
      'BAD_WATCH',
      'EPERM',
    ],
  ],
  7: ['OFPET_PORT_MOD_FAILED', 'OFPPMFC', ['BAD_PORT', 'BAD_HW_ADDR', 'BAD_CONFIG', 'BAD_ADVERTISE', 'EPERM']],
  8: ['OFPET_TABLE_MOD_FAILED', 'OFPTMFC', ['BAD_TABLE', 'BAD_CONFIG', 'EPERM']],
  9: ['OFPET_QUEUE_OP_FAILED', 'OFPQOFC', ['BAD_PORT', 'BAD_QUEUE', 'EPERM']],
  10: ['OFPET_SWITCH_CONFIG_FAILED', 'OFPSCFC', ['BAD_FLAGS', 'BAD_LEN', 'EPERM']],
  11: ['OFPET_ROLE_REQUEST_FAILED', 'OFPRRFC', ['STALE', 'UNSUP', 'BAD_ROLE', 'ID_UNSUP', 'ID_IN_USE']],
  12: [
    'OFPET_METER_MOD_FAILED',
    'OFPMMFC',
    [
      'UNKNOWN',
      'METER_EXISTS',
      'INVALID_METER',
      'UNKNOWN_METER',
      'BAD_COMMAND',
      'BAD_FLAGS',
      'BAD_RATE',
      'BAD_BURST',
      'BAD_BAND',
      'BAD_BAND_VALUE',
      'OUT_OF_METERS',
      'OUT_OF_BANDS',
    ],
  ],
  13: ['OFPET_TABLE_FEATURES_FAILED', 'OFPTFFC', ['BAD_TABLE', 'BAD_METADATA', 'BAD_TYPE', 'BAD_LEN', 'BAD_ARGUMENT', 'EPERM']],
  14: [
    'OFPET_BAD_PROPERTY',
    'OFPBPC',
    ['BAD_TYPE', 'BAD_LEN', 'BAD_VALUE', 'TOO_MANY', 'DUP_TYPE', 'BAD_EXPERIMENTER', 'BAD_EXP_TYPE', 'BAD_EXP_VALUE', 'EPERM'],
  ],
  15: ['OFPET_ASYNC_CONFIG_FAILED', 'OFPACFC', ['INVALID', 'UNSUPPORTED', 'EPERM']],
  16: [
    'OFPET_FLOW_MONITOR_FAILED',
    'OFPMOFC',
    ['UNKNOWN', 'MONITOR_EXISTS', 'INVALID_MONITOR', 'UNKNOWN_MONITOR', 'BAD_COMMAND', 'BAD_FLAGS', 'BAD_TABLE_ID', 'BAD_OUT'],
  ],
  17: [
    'OFPET_BUNDLE_FAILED',
    'OFPBFC',
    [
      'UNKNOWN',
      'EPERM',
      'BAD_ID',
      'BUNDLE_EXIST',
      'BUNDLE_CLOSED',
      'OUT_OF_BUNDLES',
      'BAD_TYPE',
      'BAD_FLAGS',
      'MSG_BAD_LEN',
      'MSG_BAD_XID',
      'MSG_UNSUP',
      'MSG_CONFLICT',
      'MSG_TOO_MANY',
      'MSG_FAILED',
      'TIMEOUT',
      'BUNDLE_IN_PROGRESS',
    ],
  ],
};

/**
 * `OFPBAC_BAD_OUT_PORT`-style name of an error; experimenter errors as
 * `NXET(exp_type=N)` for Nicira's, `OFPET_EXPERIMENTER(0x…,N)` otherwise.
 */
export function errorName(type: number, code: number, experimenter?: number): string {
  if (type === 0xffff) {
    if (experimenter === 0x00002320) return `NXET(exp_type=${code})`;
    return `OFPET_EXPERIMENTER(0x${(experimenter ?? 0).toString(16)},${code})`;
  }
  const t = T[type];
  if (t === undefined) return `OFPET_${type}(code=${code})`;
  const c = t[2][code];
  return c === undefined ? `${t[0]}(code=${code})` : `${t[1]}_${c}`;
}
