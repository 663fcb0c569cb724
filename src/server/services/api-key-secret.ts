/**
 * The API-key format and its cryptography, free of database imports (unit-testable, reusable).
 *
 * `cmy_<prefix>_<secret>`: `prefix` is 10 characters of [a-z0-9], public and unique (it finds
 * the row); `secret` is 32 random bytes in base64url (43 characters), of which only the SHA-256
 * is stored. A fast hash is right here, unlike for passwords: with 256 bits of entropy there is
 * nothing to brute-force offline.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

export const API_KEY_PREFIX_LENGTH = 10;
const PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** Accepts prefixes of 8–12 characters so the generated length can change without breaking old keys. */
const API_KEY_FORMAT = /^cmy_([a-z0-9]{8,12})_([A-Za-z0-9_-]{43})$/;

/** A freshly generated key: `raw` goes to the user once; `hash` goes to the database. */
export interface GeneratedApiKey {
  prefix: string;
  secret: string;
  raw: string;
  hash: string;
}

/** Generates a new key. `randomInt` draws without modulo bias. */
export function generateApiKey(): GeneratedApiKey {
  let prefix = "";
  for (let i = 0; i < API_KEY_PREFIX_LENGTH; i++) prefix += PREFIX_ALPHABET[randomInt(PREFIX_ALPHABET.length)];
  const secret = randomBytes(32).toString("base64url");
  return { prefix, secret, raw: `cmy_${prefix}_${secret}`, hash: hashApiKeySecret(secret) };
}

/** Splits a raw key into prefix and secret; `null` when it is not in the `cmy_<prefix>_<secret>` format. */
export function parseApiKey(raw: string): { prefix: string; secret: string } | null {
  const m = API_KEY_FORMAT.exec(raw.trim());
  return m ? { prefix: m[1]!, secret: m[2]! } : null;
}

/** Hex SHA-256 of the secret part. */
export function hashApiKeySecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function apiKeySecretMatches(secret: string, storedHash: string): boolean {
  const presented = createHash("sha256").update(secret, "utf8").digest();
  const stored = Buffer.from(storedHash, "hex");
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

