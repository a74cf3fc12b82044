/**
 * Password checks for the users file. Hashes are in the formats of passlib,
 * which Keystone itself uses (keystone/common/password_hashing.py), so a hash
 * made with `python3 -c 'from passlib.hash import scrypt; print(scrypt.hash("pw"))'`
 * works as is:
 *   - `$scrypt$ln=LOG2N,r=R,p=P$SALT$CHECKSUM` (standard base64, no padding, 32-byte key)
 *   - `$pbkdf2-sha512$ROUNDS$SALT$CHECKSUM` (passlib's "ab64": `.` for `+`, no padding, 64-byte key)
 * Both are computed with node:crypto, off the event loop.
 */
import { createHash, pbkdf2, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const SCRYPT_RE = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;
const PBKDF2_RE = /^\$pbkdf2-sha512\$(\d{1,8})\$([A-Za-z0-9./]+)\$([A-Za-z0-9./]+)$/;

/** Work factors of {@link hashPassword}: passlib's scrypt defaults (ln=16, r=8, p=1). */
const SCRYPT_LN = 16;
const SCRYPT_R = 8;
const SCRYPT_P = 1;

export function isSupportedPasswordHash(hash: string): boolean {
  const s = SCRYPT_RE.exec(hash);
  if (s) return Number(s[1]) >= 1 && Number(s[1]) <= 24 && Number(s[2]) >= 1 && Number(s[3]) >= 1;
  return PBKDF2_RE.test(hash);
}

function scryptAsync(password: string, salt: Buffer, keylen: number, ln: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** ln;
  // node's default maxmem (32 MiB) is below what passlib's default ln=16 needs (128·N·r bytes).
  const opts: ScryptOptions = { N, r, p, maxmem: 128 * N * r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, opts, (e, key) => (e ? reject(e) : resolve(key))));
}

function ab64decode(s: string): Buffer {
  return Buffer.from(s.replace(/\./g, '+'), 'base64');
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether `password` matches the stored plain text or hash. */
export async function verifyPassword(stored: { readonly plain: string } | { readonly hash: string }, password: string): Promise<boolean> {
  if ('plain' in stored) {
    // Compare digests so the time taken says nothing about the stored password.
    const digest = (x: string): Buffer => createHash('sha256').update(x, 'utf8').digest();
    return sameBytes(digest(stored.plain), digest(password));
  }
  const s = SCRYPT_RE.exec(stored.hash);
  if (s) {
    const expected = Buffer.from(s[5]!, 'base64');
    const key = await scryptAsync(password, Buffer.from(s[4]!, 'base64'), expected.length, Number(s[1]), Number(s[2]), Number(s[3]));
    return sameBytes(key, expected);
  }
  const k = PBKDF2_RE.exec(stored.hash);
  if (k) {
    const expected = ab64decode(k[3]!);
    const key = await new Promise<Buffer>((resolve, reject) =>
      pbkdf2(password, ab64decode(k[2]!), Number(k[1]), expected.length, 'sha512', (e, out) => (e ? reject(e) : resolve(out))),
    );
    return sameBytes(key, expected);
  }
  return false;
}

/** A passlib-compatible `$scrypt$` hash of `password`, for `password_hash` in the users file. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32, SCRYPT_LN, SCRYPT_R, SCRYPT_P);
  const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=${SCRYPT_LN},r=${SCRYPT_R},p=${SCRYPT_P}$${b64(salt)}$${b64(key)}`;
}
