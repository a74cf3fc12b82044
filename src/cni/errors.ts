/**
 * CNI errors as the spec defines them (SPEC.md "Error", "Well-known Error
 * Codes", CNI 1.1.0): printed as `{"cniVersion","code","msg","details"}` on
 * stdout with a non-zero exit. Codes 1-99 are the spec's; 100 and up are
 * this plugin's own.
 */
export const CNI_CODE = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  /** STATUS: the plugin cannot serve ADD now. */
  PLUGIN_NOT_AVAILABLE: 50,
  /** The IPAM refused the request (e.g. the address is taken). */
  IPAM_FAILURE: 101,
  /** The container's interface could not be set up. */
  INTERFACE_FAILURE: 102,
  /** CHECK found the container's networking not as ADD left it. */
  CHECK_FAILED: 103,
} as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly details = '',
  ) {
    super(msg);
    this.name = 'CniError';
  }

  toJSON(cniVersion: string): Record<string, unknown> {
    return { cniVersion, code: this.code, msg: this.message, ...(this.details === '' ? {} : { details: this.details }) };
  }
}
