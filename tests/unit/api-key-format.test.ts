import { describe, expect, it } from "vitest";
import type { Actor } from "~/server/actor";
import { FILE_PATTERN_PATTERN, globToLike, globToRegExp, nameMatchesPatterns, ZApiKeyCreate } from "~/server/contracts/api-key";
import { zodFieldErrors } from "~/server/contracts/common";
import { apiKeySecretMatches, generateApiKey, hashApiKeySecret, parseApiKey } from "~/server/services/api-key-secret";

describe("API key format", () => {
  it("generates cmy_<10 char prefix>_<43 char base64url secret>", () => {
    const key = generateApiKey();
    expect(key.raw).toMatch(/^cmy_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    expect(key.raw).toBe(`cmy_${key.prefix}_${key.secret}`);
    expect(Buffer.from(key.secret, "base64url")).toHaveLength(32);
  });

  it("never repeats a prefix or secret", () => {
    const keys = Array.from({ length: 500 }, generateApiKey);
    expect(new Set(keys.map((k) => k.prefix)).size).toBe(500);
    expect(new Set(keys.map((k) => k.secret)).size).toBe(500);
  });

  it("stores only the SHA-256 of the secret", () => {
    const key = generateApiKey();
    expect(key.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key.hash).toBe(hashApiKeySecret(key.secret));
    expect(key.hash).not.toContain(key.secret);
  });

  it("parses its own keys, secrets containing '_' and '-' included", () => {
    const secret = "ab_cd-ef" + "x".repeat(35);
    expect(parseApiKey(`cmy_abcdefgh12_${secret}`)).toEqual({ prefix: "abcdefgh12", secret });
    const key = generateApiKey();
    expect(parseApiKey(`  ${key.raw} `)).toEqual({ prefix: key.prefix, secret: key.secret });
  });

  it.each([
    "",
    "cmy_",
    "cmy_abc_" + "x".repeat(43), // prefix too short
    "cmy_abcdefghijklm_" + "x".repeat(43), // prefix too long
    "cmy_ABCDEFGHIJ_" + "x".repeat(43), // uppercase prefix
    "cmy_abcdefghij_" + "x".repeat(42), // secret too short
    "cmy_abcdefghij_" + "x".repeat(44),
    "xyz_abcdefghij_" + "x".repeat(43),
    "cmy_abcdefghij_" + "x".repeat(42) + "=",
  ])("rejects the malformed key %j", (raw) => {
    expect(parseApiKey(raw)).toBeNull();
  });

  it("matches only the right secret", () => {
    const key = generateApiKey();
    expect(apiKeySecretMatches(key.secret, key.hash)).toBe(true);
    const flipped = (key.secret[0] === "A" ? "B" : "A") + key.secret.slice(1);
    expect(apiKeySecretMatches(flipped, key.hash)).toBe(false);
    expect(apiKeySecretMatches(key.secret, "00")).toBe(false);
    expect(apiKeySecretMatches(key.secret, "")).toBe(false);
  });
});

describe("file-name globs", () => {
  it.each([
    ["sensors.*", "sensors.temp", true],
    ["sensors.*", "sensors.", true],
    ["sensors.*", "sensorsxtemp", false], // '.' is literal
    ["sensors.*", "other.sensors.temp", false], // anchored
    ["?", "a", true],
    ["?", "ab", false],
    ["a?c", "abc", true],
    ["*", "anything.at_all", true],
    ["a_b", "a_b", true],
    ["a_b", "axb", false], // '_' is literal (not SQL's wildcard)
    ["*.log-?", "svc.log-1", true],
  ])("%j vs %j → %s (RegExp)", (glob, name, expected) => {
    expect(globToRegExp(glob).test(name)).toBe(expected);
  });

  it("translates to SQL LIKE with '%' and '_' escaped", () => {
    expect(globToLike("sensors.*")).toBe("sensors.%");
    expect(globToLike("a_b?")).toBe("a\\_b_");
    expect(globToLike("x%y")).toBe("x\\%y");
  });

  it("allows everything with no patterns, else needs one match", () => {
    expect(nameMatchesPatterns([], "x")).toBe(true);
    expect(nameMatchesPatterns(["a.*", "b.*"], "b.x")).toBe(true);
    expect(nameMatchesPatterns(["a.*", "b.*"], "c.x")).toBe(false);
  });

  it("accepts only the name alphabet and the two wildcards in patterns", () => {
    for (const ok of ["sensors.*", "?", "a-b_c.d*"]) expect(FILE_PATTERN_PATTERN.test(ok)).toBe(true);
    for (const bad of ["", "[a-z]", "a/b", "A*", "a".repeat(129), "(x)"]) expect(FILE_PATTERN_PATTERN.test(bad)).toBe(false);
  });
});

describe("API key create input", () => {
  it("needs a name and at least one known scope", () => {
    const r = ZApiKeyCreate.safeParse({ name: " ", scopes: [] });
    expect(r.success).toBe(false);
    const fields = r.success ? {} : zodFieldErrors(r.error);
    expect(Object.keys(fields).sort()).toEqual(["name", "scopes"]);
    expect(ZApiKeyCreate.safeParse({ name: "x", scopes: ["members:write"] }).success).toBe(false);
    expect(ZApiKeyCreate.safeParse({ name: "x", scopes: ["files:read", "files:read"] }).success).toBe(false);
  });

  it("rejects expiry in the past and bad patterns, field by field", () => {
    const r = ZApiKeyCreate.safeParse({ name: "x", scopes: ["files:read"], expiresAt: "2000-01-01T00:00:00Z", filePatterns: ["ok.*", "B@D"] });
    const fields = r.success ? {} : zodFieldErrors(r.error);
    expect(Object.keys(fields).sort()).toEqual(["expiresAt", "filePatterns.1"]);
  });

  it("defaults to every file and no expiry", () => {
    expect(ZApiKeyCreate.parse({ name: "ci", scopes: ["files:read"] })).toEqual({ name: "ci", scopes: ["files:read"], filePatterns: [], expiresAt: null });
  });
});

describe("keyMayAccessFile", async () => {
  // Imported lazily: the service module creates the Prisma client (it never connects here).
  process.env.DATABASE_URL ??= "postgresql://unit@127.0.0.1:1/none";
  const { keyMayAccessFile } = await import("~/server/services/api-keys");
  const key = (filePatterns: string[]): Actor => ({ type: "API_KEY", apiKeyId: "k", tenantId: "t", scopes: ["files:read"], filePatterns, label: "k" });
  const user: Actor = { type: "USER", userId: "u", label: "u", isPlatformAdmin: false };

  it("restricts keys with patterns, and only keys", () => {
    expect(keyMayAccessFile(key(["sensors.*"]), "sensors.a")).toBe(true);
    expect(keyMayAccessFile(key(["sensors.*"]), "billing")).toBe(false);
    expect(keyMayAccessFile(key([]), "billing")).toBe(true);
    expect(keyMayAccessFile(user, "billing")).toBe(true);
  });
});
