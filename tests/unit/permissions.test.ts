/** The permission matrix as people experience it. */
import { describe, expect, it } from "vitest";
import type { TenantContext } from "~/server/actor";
import { allowed, authorize } from "~/server/actor";
import { API_KEY_SCOPES, can, PERMISSIONS, permissionsOf, ROLES, scopesAllow } from "~/server/auth/permissions";

const MANAGEMENT = ["member:invite", "member:update", "member:remove", "apikey:create", "apikey:revoke", "tenant:update", "tenant:delete"] as const;

describe("roles", () => {
  it("only an owner can delete the tenant", () => {
    expect(ROLES.filter((r) => can(r, "tenant:delete"))).toEqual(["OWNER"]);
  });

  it("an admin can do everything but delete the tenant", () => {
    expect(PERMISSIONS.filter((p) => !can("ADMIN", p))).toEqual(["tenant:delete"]);
  });

  it("an operator runs the data plane but manages neither people, keys nor the tenant", () => {
    for (const p of ["file:create", "file:update", "file:data:write", "node:manage", "settings:update", "audit:export", "audit:verify"] as const) {
      expect(can("OPERATOR", p), p).toBe(true);
    }
    for (const p of [...MANAGEMENT, "file:delete"] as const) expect(can("OPERATOR", p), p).toBe(false);
  });

  it("a viewer can read everything and change nothing", () => {
    for (const p of PERMISSIONS) expect(can("VIEWER", p), p).toBe(p.endsWith(":read"));
    expect(can("VIEWER", "audit:export")).toBe(false);
  });

  it("each role's power contains the weaker roles' power", () => {
    const order = ["VIEWER", "OPERATOR", "ADMIN", "OWNER"] as const;
    for (let i = 1; i < order.length; i++) {
      for (const p of permissionsOf(order[i - 1]!)) expect(can(order[i]!, p), `${order[i]} lacks ${p}`).toBe(true);
    }
  });
});

describe("API key scopes", () => {
  it("no scope, not even all of them together, manages members, keys or the tenant", () => {
    for (const p of MANAGEMENT) expect(scopesAllow([...API_KEY_SCOPES], p), p).toBe(false);
  });

  it("files:write implies reading files but not their data", () => {
    expect(scopesAllow(["files:write"], "file:read")).toBe(true);
    expect(scopesAllow(["files:write"], "file:delete")).toBe(true);
    expect(scopesAllow(["files:write"], "file:data:read")).toBe(false);
  });

  it("unknown scopes grant nothing", () => {
    for (const p of PERMISSIONS) expect(scopesAllow(["admin", "*", "tenant:delete"], p), p).toBe(false);
  });
});

describe("authorize", () => {
  const meta = { requestId: "r" };
  const userCtx = (role: TenantContext["role"]): TenantContext => ({ actor: { type: "USER", userId: "u", label: "u", isPlatformAdmin: true }, tenantId: "t", role, meta });

  it("throws FORBIDDEN naming the missing permission", () => {
    expect(() => authorize(userCtx("VIEWER"), "member:invite")).toThrow(expect.objectContaining({ code: "FORBIDDEN", message: expect.stringContaining("member:invite") }));
  });

  it("a user without a role in the tenant may do nothing, platform admin or not", () => {
    for (const p of PERMISSIONS) expect(allowed(userCtx(null), p), p).toBe(false);
  });

  it("a key is judged by its scopes only", () => {
    const ctx: TenantContext = { actor: { type: "API_KEY", apiKeyId: "k", tenantId: "t", scopes: ["audit:read"], filePatterns: [], label: "k" }, tenantId: "t", role: "OWNER", meta };
    expect(allowed(ctx, "audit:export")).toBe(true);
    expect(allowed(ctx, "file:read")).toBe(false);
  });
});
