/**
 * Bearer tokens issued by the Keystone subset: 256 random bits each, known only
 * to this process's memory. A token not in the table (forged, from another
 * process, revoked) or past its expiry is refused; nothing is derived from the
 * token text itself, so there is nothing to forge.
 */
import { randomBytes } from 'node:crypto';

export interface TokenScope {
  readonly project: { readonly id: string; readonly name: string };
  /** Role names, implied ones included. */
  readonly roles: readonly string[];
}

export interface Token {
  readonly id: string;
  readonly userId: string;
  readonly userName: string;
  /** `null` for an unscoped token (no project, no roles, no catalog). */
  readonly scope: TokenScope | null;
  readonly methods: readonly string[];
  /** Milliseconds since the epoch, whole seconds (Keystone's precision). */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Keystone's audit id chain: this token's own id first, then the one it was rescoped from. */
  readonly auditIds: readonly string[];
}

export interface TokenStoreOptions {
  /** Token lifetime in milliseconds (Keystone's `[token] expiration`). Default 3600000 (1 h). */
  readonly lifetimeMs?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** How often expired tokens are dropped from memory (ms). */
const SWEEP_INTERVAL_MS = 60_000;

export class TokenStore {
  readonly lifetimeMs: number;
  private readonly now: () => number;
  private readonly tokens = new Map<string, Token>();
  private lastSweep: number;

  constructor(opts: TokenStoreOptions = {}) {
    this.lifetimeMs = opts.lifetimeMs ?? 3_600_000;
    this.now = opts.now ?? Date.now;
    this.lastSweep = this.now();
  }

  /**
   * A new token. `expiresAt` caps its life (a rescoped token never outlives
   * the one it came from, as in Keystone).
   */
  issue(fields: Omit<Token, 'id' | 'issuedAt' | 'expiresAt' | 'auditIds'> & { expiresAt?: number; parentAuditId?: string }): Token {
    const now = this.now();
    this.sweep(now);
    const issuedAt = Math.floor(now / 1000) * 1000;
    const expiresAt = Math.min(issuedAt + this.lifetimeMs, fields.expiresAt ?? Infinity);
    const auditId = randomBytes(16).toString('base64url');
    const token: Token = {
      id: randomBytes(32).toString('base64url'),
      userId: fields.userId,
      userName: fields.userName,
      scope: fields.scope,
      methods: fields.methods,
      issuedAt,
      expiresAt,
      auditIds: fields.parentAuditId === undefined ? [auditId] : [auditId, fields.parentAuditId],
    };
    this.tokens.set(token.id, token);
    return token;
  }

  /** The live token with this id, or undefined (unknown, revoked or expired). */
  lookup(id: string | undefined): Token | undefined {
    if (id === undefined || id === '') return undefined;
    const token = this.tokens.get(id);
    if (!token) return undefined;
    if (this.now() >= token.expiresAt) {
      this.tokens.delete(id);
      return undefined;
    }
    return token;
  }

  /** Revokes a token; false when it was not live. */
  revoke(id: string): boolean {
    return this.lookup(id) !== undefined && this.tokens.delete(id);
  }

  /** Live tokens held (for tests and stats). */
  get size(): number {
    this.sweep(this.now(), true);
    return this.tokens.size;
  }

  private sweep(now: number, force = false): void {
    if (!force && now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [id, t] of this.tokens) if (now >= t.expiresAt) this.tokens.delete(id);
  }
}
