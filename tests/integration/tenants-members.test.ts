/**
 * Tenants and memberships against a real PostgreSQL: ownership rules, the last-owner rule
 * (also under concurrent demotions), tenant scoping, and the audit event of every change.
 */
import { afterAll, describe, expect, it } from "vitest";
import { verifyChain } from "~/server/audit/verify";
import { db } from "~/server/db";
import { changeMemberRole, leaveTenant, listMembers, removeMember } from "~/server/services/memberships";
import { createTenant, deleteTenant, getTenant, listMyTenants, renameTenant, updateTenantSettings } from "~/server/services/tenants";
import { uniqueName } from "../helpers/unique";
import { codeOf, createPerson, createTeam, tenantCtx } from "./core-fixtures";

afterAll(async () => {
  await db.$disconnect();
});

async function actions(tenantId: string): Promise<string[]> {
  return (await db.auditEvent.findMany({ where: { chainId: tenantId }, orderBy: { seq: "asc" }, select: { action: true } })).map((e) => e.action);
}

describe("tenants", () => {
  it("creating a tenant makes the creator its only owner and records tenant.created", async () => {
    const p = await createPerson();
    const t = await createTenant(p.userCtx, { name: "Acme Robotics, Inc." });
    expect(t.slug).toMatch(/^acme-robotics-inc/);
    const members = await db.membership.findMany({ where: { tenantId: t.id } });
    expect(members).toMatchObject([{ userId: p.userId, role: "OWNER" }]);
    const [event] = await db.auditEvent.findMany({ where: { chainId: t.id } });
    expect(event).toMatchObject({ action: "tenant.created", actorType: "USER", actorId: p.userId, targetId: t.id, requestId: p.userCtx.meta.requestId, ip: "10.1.2.3" });
    expect((await listMyTenants(p.userCtx)).map((x) => [x.id, x.role])).toEqual([[t.id, "OWNER"]]);
  });

  it("a taken slug is a CONFLICT on the slug field, and nothing is created", async () => {
    const p = await createPerson();
    const slug = uniqueName("acme");
    await createTenant(p.userCtx, { name: "First", slug });
    const err = await createTenant(p.userCtx, { name: "Second", slug }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFLICT", fields: { slug: [expect.stringContaining("taken")] } });
    expect(await db.tenant.count({ where: { name: "Second", memberships: { some: { userId: p.userId } } } })).toBe(0);
  });

  it("rename and settings are audited with before and after", async () => {
    const team = await createTeam();
    const admin = await team.ctx(team.admin);
    await renameTenant(admin, { name: "Renamed" });
    await updateTenantSettings(admin, { auditRetentionDays: 30 });
    expect(await getTenant(admin)).toMatchObject({ name: "Renamed", auditRetentionDays: 30 });
    const events = await db.auditEvent.findMany({ where: { chainId: team.tenantId, action: { in: ["tenant.renamed", "tenant.settings_updated"] } }, orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.action, e.before, e.after])).toEqual([
      ["tenant.renamed", { name: team.name }, { name: "Renamed" }],
      ["tenant.settings_updated", { auditRetentionDays: 365 }, { auditRetentionDays: 30 }],
    ]);
  });

  it("operators and viewers cannot rename; admins cannot delete", async () => {
    const team = await createTeam();
    expect(await codeOf(async () => renameTenant(await team.ctx(team.operator), { name: "Nope" }))).toBe("FORBIDDEN");
    expect(await codeOf(async () => renameTenant(await team.ctx(team.viewer), { name: "Nope" }))).toBe("FORBIDDEN");
    expect(await codeOf(async () => deleteTenant(await team.ctx(team.admin), { confirm: team.slug }))).toBe("FORBIDDEN");
    expect((await db.tenant.findUnique({ where: { id: team.tenantId } }))?.name).toBe(team.name);
  });

  it("delete needs the typed slug or name, removes everything, and is recorded on the platform chain", async () => {
    const team = await createTeam();
    const owner = await team.ctx(team.owner);
    const wrong = await deleteTenant(owner, { confirm: "something else" }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: "VALIDATION_FAILED", fields: { confirm: [expect.stringContaining(team.slug)] } });
    expect(await db.tenant.count({ where: { id: team.tenantId } })).toBe(1);

    await deleteTenant(owner, { confirm: team.slug });
    expect(await db.tenant.count({ where: { id: team.tenantId } })).toBe(0);
    expect(await db.membership.count({ where: { tenantId: team.tenantId } })).toBe(0);
    expect(await db.auditChainHead.count({ where: { chainId: team.tenantId } })).toBe(0);
    const platform = await db.auditEvent.findFirst({ where: { chainId: "platform", action: "tenant.deleted", targetId: team.tenantId } });
    expect(platform).toMatchObject({ actorId: team.owner.userId, before: { slug: team.slug, members: 4 } });
    expect((await verifyChain(db, "platform")).ok).toBe(true);
  });

  it("accepts the tenant's name as confirmation too", async () => {
    const team = await createTeam();
    await deleteTenant(await team.ctx(team.owner), { confirm: team.name });
    expect(await db.tenant.count({ where: { id: team.tenantId } })).toBe(0);
  });
});

describe("memberships", () => {
  it("an admin changes roles below owner; the change is audited with before and after", async () => {
    const team = await createTeam();
    const updated = await changeMemberRole(await team.ctx(team.admin), { userId: team.viewer.userId, role: "OPERATOR" });
    expect(updated.role).toBe("OPERATOR");
    const ev = await db.auditEvent.findFirst({ where: { chainId: team.tenantId, action: "member.role_changed" } });
    expect(ev).toMatchObject({ actorId: team.admin.userId, targetType: "user", targetId: team.viewer.userId, before: { role: "VIEWER" }, after: { role: "OPERATOR" } });
  });

  it("only owners grant or revoke OWNER", async () => {
    const team = await createTeam();
    const admin = await team.ctx(team.admin);
    expect(await codeOf(() => changeMemberRole(admin, { userId: team.viewer.userId, role: "OWNER" }))).toBe("FORBIDDEN");
    expect(await codeOf(() => changeMemberRole(admin, { userId: team.owner.userId, role: "VIEWER" }))).toBe("FORBIDDEN");
    expect(await codeOf(() => removeMember(admin, { userId: team.owner.userId }))).toBe("FORBIDDEN");
    await changeMemberRole(await team.ctx(team.owner), { userId: team.admin.userId, role: "OWNER" });
    expect((await db.membership.findMany({ where: { tenantId: team.tenantId, role: "OWNER" } })).length).toBe(2);
  });

  it("the last owner can be neither demoted, removed, nor leave", async () => {
    const team = await createTeam();
    const owner = await team.ctx(team.owner);
    expect(await codeOf(() => changeMemberRole(owner, { userId: team.owner.userId, role: "ADMIN" }))).toBe("LAST_OWNER");
    expect(await codeOf(() => removeMember(owner, { userId: team.owner.userId }))).toBe("LAST_OWNER");
    expect(await codeOf(() => leaveTenant(owner))).toBe("LAST_OWNER");
    expect(await db.membership.findFirst({ where: { tenantId: team.tenantId, userId: team.owner.userId } })).toMatchObject({ role: "OWNER" });
    // With a second owner, the first may step down.
    await changeMemberRole(owner, { userId: team.admin.userId, role: "OWNER" });
    await changeMemberRole(owner, { userId: team.owner.userId, role: "ADMIN" });
    expect((await db.membership.findMany({ where: { tenantId: team.tenantId, role: "OWNER" } })).map((m) => m.userId)).toEqual([team.admin.userId]);
  });

  it("two owners demoting each other at the same time leave exactly one owner", async () => {
    for (let round = 0; round < 5; round++) {
      const team = await createTeam();
      const owner = await team.ctx(team.owner);
      await changeMemberRole(owner, { userId: team.admin.userId, role: "OWNER" });
      const second = await tenantCtx(team.admin, team.tenantId);
      const results = await Promise.allSettled([
        changeMemberRole(owner, { userId: team.admin.userId, role: "VIEWER" }),
        changeMemberRole(second, { userId: team.owner.userId, role: "VIEWER" }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(rejected?.reason).toMatchObject({ code: expect.stringMatching(/^(LAST_OWNER|FORBIDDEN)$/) });
      expect(await db.membership.count({ where: { tenantId: team.tenantId, role: "OWNER" } })).toBe(1);
    }
  });

  it("three owners removing each other concurrently keep at least one owner", async () => {
    const team = await createTeam();
    const owner = await team.ctx(team.owner);
    await changeMemberRole(owner, { userId: team.admin.userId, role: "OWNER" });
    await changeMemberRole(owner, { userId: team.operator.userId, role: "OWNER" });
    const owners = [team.owner, team.admin, team.operator];
    const ctxs = await Promise.all(owners.map((p) => tenantCtx(p, team.tenantId)));
    await Promise.allSettled(ctxs.map((c, i) => removeMember(c, { userId: owners[(i + 1) % 3]!.userId })));
    expect(await db.membership.count({ where: { tenantId: team.tenantId, role: "OWNER" } })).toBeGreaterThanOrEqual(1);
    expect((await verifyChain(db, team.tenantId)).ok).toBe(true);
  });

  it("removing a member ends their access and is audited", async () => {
    const team = await createTeam();
    await removeMember(await team.ctx(team.admin), { userId: team.operator.userId });
    expect(await db.membership.count({ where: { tenantId: team.tenantId, userId: team.operator.userId } })).toBe(0);
    expect(await actions(team.tenantId)).toContain("member.removed");
    expect((await listMembers(await team.ctx(team.viewer))).map((m) => m.userId)).not.toContain(team.operator.userId);
  });

  it("operators and viewers cannot change roles or remove members", async () => {
    const team = await createTeam();
    for (const p of [team.operator, team.viewer]) {
      const ctx = await team.ctx(p);
      expect(await codeOf(() => changeMemberRole(ctx, { userId: team.viewer.userId, role: "ADMIN" }))).toBe("FORBIDDEN");
      expect(await codeOf(() => removeMember(ctx, { userId: team.viewer.userId }))).toBe("FORBIDDEN");
    }
  });

  it("lists members owners first, with their user", async () => {
    const team = await createTeam();
    const list = await listMembers(await team.ctx(team.viewer));
    expect(list.map((m) => m.role)).toEqual(["OWNER", "ADMIN", "OPERATOR", "VIEWER"]);
    expect(list[0]!.user.email).toBe(team.owner.email);
  });
});

describe("tenant scoping", () => {
  it("ids of another tenant's members are NOT_FOUND, and nothing changes there", async () => {
    const [a, b] = [await createTeam(), await createTeam()];
    const ownerA = await a.ctx(a.owner);
    expect(await codeOf(() => changeMemberRole(ownerA, { userId: b.viewer.userId, role: "ADMIN" }))).toBe("NOT_FOUND");
    expect(await codeOf(() => removeMember(ownerA, { userId: b.viewer.userId }))).toBe("NOT_FOUND");
    expect(await db.membership.findFirst({ where: { tenantId: b.tenantId, userId: b.viewer.userId } })).toMatchObject({ role: "VIEWER" });
    expect(await actions(b.tenantId)).toEqual(["tenant.created"]);
  });

  it("a list only shows the caller's tenant", async () => {
    const [a, b] = [await createTeam(), await createTeam()];
    const ids = (await listMembers(await a.ctx(a.owner))).map((m) => m.userId);
    expect(ids).toHaveLength(4);
    expect(ids).not.toContain(b.owner.userId);
  });
});
