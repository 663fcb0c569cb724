/** Request metadata, session cookies, CSV safety and environment validation. */
import { describe, expect, it } from "vitest";
import { csvCell } from "~/server/audit/export";
import { bearerToken, requestMetaFromHeaders } from "~/server/api/request-meta";
import { sessionTokenFromCookieHeader } from "~/server/auth/session";

describe("request meta", () => {
  it("keeps a sane x-request-id and takes the first x-forwarded-for hop", () => {
    const meta = requestMetaFromHeaders(new Headers({ "x-request-id": "abc-123", "x-forwarded-for": "203.0.113.7, 10.0.0.1", "user-agent": "curl/8" }));
    expect(meta).toEqual({ requestId: "abc-123", ip: "203.0.113.7", userAgent: "curl/8" });
  });

  it("replaces a hostile request id with a fresh UUID and falls back to x-real-ip", () => {
    const meta = requestMetaFromHeaders(new Headers({ "x-request-id": "<script>alert(1)</script>", "x-real-ip": "198.51.100.2" }));
    expect(meta.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta.ip).toBe("198.51.100.2");
  });

  it("generates distinct ids when none is given", () => {
    expect(requestMetaFromHeaders(new Headers()).requestId).not.toBe(requestMetaFromHeaders(new Headers()).requestId);
  });

  it("reads bearer tokens only", () => {
    expect(bearerToken(new Headers({ authorization: "Bearer cmy_abc" }))).toBe("cmy_abc");
    expect(bearerToken(new Headers({ authorization: "Basic Zm9vOmJhcg==" }))).toBeNull();
  });
});

describe("session cookie", () => {
  it("finds the next-auth session token, secure name first", () => {
    expect(sessionTokenFromCookieHeader("theme=dark; next-auth.session-token=abc; other=1")).toBe("abc");
    expect(sessionTokenFromCookieHeader("__Secure-next-auth.session-token=sec; next-auth.session-token=plain")).toBe("sec");
    expect(sessionTokenFromCookieHeader("theme=dark")).toBeNull();
    expect(sessionTokenFromCookieHeader(null)).toBeNull();
  });
});

describe("CSV cells", () => {
  it("quotes separators and neutralizes spreadsheet formulas", () => {
    expect(csvCell('say "hi", then\nleave')).toBe('"say ""hi"", then\nleave"');
    expect(csvCell("=HYPERLINK(\"http://evil\")")).toBe("\"'=HYPERLINK(\"\"http://evil\"\")\"");
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell(null)).toBe("");
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
    expect(csvCell(new Date("2026-01-01T00:00:00Z"))).toBe("2026-01-01T00:00:00.000Z");
  });
});

describe("environment", () => {
  async function parse(env: Record<string, string | undefined>) {
    process.env.SKIP_ENV_VALIDATION = "1"; // importing the module must not validate the test runner's env
    const { parseEnv } = await import("~/env.js");
    return parseEnv(env as NodeJS.ProcessEnv);
  }

  it("accepts a minimal development environment with defaults", async () => {
    const env = await parse({ DATABASE_URL: "postgresql://u:p@localhost:5432/db" });
    expect(env).toMatchObject({ NODE_ENV: "development", DATABASE_POOL_SIZE: 10, OIDC_NAME: "Single sign-on", AUDIT_RETENTION_INTERVAL_MINUTES: 60 });
  });

  it("names every problem: bad URL, half-configured provider, missing production secret", async () => {
    await expect(parse({ DATABASE_URL: "mysql://x", NODE_ENV: "production", GITHUB_ID: "id" })).rejects.toThrow(
      expect.objectContaining({ message: expect.stringMatching(/DATABASE_URL[\s\S]*GITHUB_SECRET: required when GITHUB_ID is set[\s\S]*NEXTAUTH_SECRET/) }),
    );
  });

  it("treats empty provider variables as unset", async () => {
    const env = await parse({ DATABASE_URL: "postgresql://localhost/db", OIDC_ISSUER: "", OIDC_CLIENT_ID: "", OIDC_CLIENT_SECRET: "" });
    expect(env.OIDC_ISSUER).toBeUndefined();
  });
});
