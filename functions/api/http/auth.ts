/**
 * The ADMIN_TOKEN (root key) comparison, in constant time. Tokens are never logged or echoed; the
 * access check itself is functions/api/access.ts.
 */

const encoder = new TextEncoder();

/** Constant-time equality (length leaks only through the digest, which is fixed-size). */
export async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(given)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}
