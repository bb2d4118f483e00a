/**
 * API key tokens: `etk_<id>_<secret>`. The id (16 hex) is public: it names the key's Durable Object and
 * appears in listings and the audit trail. The secret is 32 random bytes (256 bits), base64url.
 *
 * Only SHA-256(token) is ever stored. A slow password KDF (PBKDF2, scrypt, bcrypt) exists to make guessing
 * a low-entropy human password expensive; a 256-bit random secret cannot be guessed at any hash speed
 * (2^255 tries on average), so the slow KDF would add no security and would cost tens of milliseconds of
 * CPU on every request. No salt either: every secret is unique and random, so precomputed tables are moot.
 */

export const TOKEN_PREFIX = 'etk_';
const TOKEN_PATTERN = /^etk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;
const encoder = new TextEncoder();

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** SHA-256 of the whole token, lowercase hex: what the key store keeps and compares. */
export async function hashToken(token: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(token))));
}

/** The key id a well-formed token names, or null (then no storage is consulted at all). */
export function keyIdOf(token: string): string | null {
  return TOKEN_PATTERN.exec(token)?.[1] ?? null;
}

/** A fresh key: the token (shown once), its id and its hash. */
export async function newApiKey(): Promise<{ id: string; token: string; hash: string }> {
  const id = hex(crypto.getRandomValues(new Uint8Array(8)));
  const token = `${TOKEN_PREFIX}${id}_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
  return { id, token, hash: await hashToken(token) };
}
