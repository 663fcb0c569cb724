/** Input validation users meet: tenant names and slugs, invitations, audit filters, settings. */
import { describe, expect, it } from "vitest";
import { ZAuditFilters, ZAuditListInput } from "~/server/contracts/audit";
import { ZCreateInvitationInput, ZCreateTenantInput, ZInvitationToken, ZTenantSettingsInput } from "~/server/contracts/tenant";
import { slugify } from "~/server/services/tenants";

describe("tenant input", () => {
  it("accepts a name with an optional slug, normalizing the slug's case", () => {
    expect(ZCreateTenantInput.parse({ name: "  Acme  ", slug: "Acme-Robotics" })).toEqual({ name: "Acme", slug: "acme-robotics" });
  });

  it.each([
    ["-acme", "starting with a dash"],
    ["acme-", "ending with a dash"],
    ["ac me", "with a space"],
    ["a", "too short"],
    ["a".repeat(49), "too long"],
    ["acme_robotics", "with an underscore"],
  ])("refuses slug %j (%s) on the slug field", (slug) => {
    const r = ZCreateTenantInput.safeParse({ name: "Acme", slug });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(["slug"]);
  });

  it("refuses a one-letter name with a readable message", () => {
    const r = ZCreateTenantInput.safeParse({ name: "A" });
    expect(r.error!.issues[0]!.message).toBe("Use at least 2 characters");
  });

  it("derives slugs from names", () => {
    expect(slugify("Acme Robotics, Inc.")).toBe("acme-robotics-inc");
    expect(slugify("Ünïcödé Tëam")).toBe("unicode-team");
    expect(slugify("!!!")).toBe("");
  });

  it("keeps audit retention between a week and ten years, in whole days", () => {
    expect(ZTenantSettingsInput.safeParse({ auditRetentionDays: 7 }).success).toBe(true);
    expect(ZTenantSettingsInput.safeParse({ auditRetentionDays: 6 }).success).toBe(false);
    expect(ZTenantSettingsInput.safeParse({ auditRetentionDays: 3651 }).success).toBe(false);
    expect(ZTenantSettingsInput.safeParse({ auditRetentionDays: 30.5 }).success).toBe(false);
  });
});

describe("invitation input", () => {
  it("lower-cases and trims the email", () => {
    expect(ZCreateInvitationInput.parse({ email: "  Ada@Example.COM ", role: "ADMIN" })).toEqual({ email: "ada@example.com", role: "ADMIN" });
  });

  it("refuses a non-address and an unknown role, each on its field", () => {
    const r = ZCreateInvitationInput.safeParse({ email: "ada", role: "GOD" });
    expect(r.error!.issues.map((i) => i.path[0]).sort()).toEqual(["email", "role"]);
    expect(r.error!.issues.find((i) => i.path[0] === "email")!.message).toContain("email address");
  });

  it("refuses tokens that cannot be ours", () => {
    expect(ZInvitationToken.safeParse("short").success).toBe(false);
    expect(ZInvitationToken.safeParse("a".repeat(30) + "/../").success).toBe(false);
    expect(ZInvitationToken.safeParse("A".repeat(43)).success).toBe(true);
  });
});

describe("audit filters", () => {
  it("accepts an action or an action prefix", () => {
    expect(ZAuditFilters.safeParse({ action: "member.role_changed" }).success).toBe(true);
    expect(ZAuditFilters.safeParse({ action: "member." }).success).toBe(true);
    expect(ZAuditFilters.safeParse({ action: "member.*; DROP TABLE" }).success).toBe(false);
  });

  it("coerces query-string dates and refuses an empty range on `to`", () => {
    const ok = ZAuditFilters.parse({ from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z" });
    expect(ok.from).toBeInstanceOf(Date);
    const bad = ZAuditFilters.safeParse({ from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" });
    expect(bad.error!.issues[0]!.path).toEqual(["to"]);
  });

  it("pages 50 by default and at most 200", () => {
    expect(ZAuditListInput.parse({}).limit).toBe(50);
    expect(ZAuditListInput.safeParse({ limit: 201 }).success).toBe(false);
  });
});
