/**
 * Invitations against a real PostgreSQL: hashed single-use tokens, 7-day expiry, email match,
 * clear refusals, revocation, concurrency.
 */
import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { db } from "~/server/db";
import { acceptInvitation, createInvitation, listPendingInvitations, previewInvitation, revokeInvitation } from "~/server/services/invitations";
import { uniqueEmail } from "../helpers/unique";
import { codeOf, createPerson, createTeam } from "./core-fixtures";

afterAll(async () => {
  await db.$disconnect();
});

const DAY = 24 * 60 * 60 * 1000;

describe("creating invitations", () => {
  it("returns a 256-bit token once and stores only its SHA-256; expires in 7 days", async () => {
    const team = await createTeam();
    const { invitation, token } = await createInvitation(await team.ctx(team.admin), { email: "Ada@Example.com", role: "OPERATOR" });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await db.invitation.findUniqueOrThrow({ where: { id: invitation.id } });
    expect(row.tokenHash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row.email).toBe("ada@example.com");
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBeGreaterThan(7 * DAY - 5000);
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBeLessThanOrEqual(7 * DAY + 5000);
    const ev = await db.auditEvent.findFirst({ where: { chainId: team.tenantId, action: "invitation.created" } });
    expect(ev).toMatchObject({ targetId: invitation.id, after: { email: "ada@example.com", role: "OPERATOR" } });
    expect(JSON.stringify(ev)).not.toContain(token);
  });

  it("only owners invite owners; operators and viewers cannot invite at all", async () => {
    const team = await createTeam();
    const err = await createInvitation(await team.ctx(team.admin), { email: uniqueEmail(), role: "OWNER" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "FORBIDDEN", fields: { role: [expect.any(String)] } });
    await expect(createInvitation(await team.ctx(team.owner), { email: uniqueEmail(), role: "OWNER" })).resolves.toBeTruthy();
    expect(await codeOf(async () => createInvitation(await team.ctx(team.operator), { email: uniqueEmail(), role: "VIEWER" }))).toBe("FORBIDDEN");
    expect(await codeOf(async () => createInvitation(await team.ctx(team.viewer), { email: uniqueEmail(), role: "VIEWER" }))).toBe("FORBIDDEN");
  });

  it("inviting an existing member is a CONFLICT on email", async () => {
    const team = await createTeam();
    const err = await createInvitation(await team.ctx(team.owner), { email: team.viewer.email.toUpperCase(), role: "ADMIN" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFLICT", fields: { email: [expect.any(String)] } });
  });

  it("a new invitation for the same email supersedes the pending one", async () => {
    const team = await createTeam();
    const ctx = await team.ctx(team.owner);
    const email = uniqueEmail("again");
    const first = await createInvitation(ctx, { email, role: "VIEWER" });
    const second = await createInvitation(ctx, { email, role: "ADMIN" });
    expect((await listPendingInvitations(ctx)).map((i) => i.id)).toEqual([second.invitation.id]);
    const invitee = await createPerson({ email });
    expect(await codeOf(() => acceptInvitation(invitee.userCtx, { token: first.token }))).toBe("INVITATION_REVOKED");
    await expect(acceptInvitation(invitee.userCtx, { token: second.token })).resolves.toMatchObject({ role: "ADMIN" });
  });
});

describe("accepting invitations", () => {
  it("the invited user (email case-insensitive) joins with the invited role; both events are audited", async () => {
    const team = await createTeam();
    const email = uniqueEmail("ada");
    const { token, invitation } = await createInvitation(await team.ctx(team.admin), { email: email.toUpperCase(), role: "OPERATOR" });
    // The identity provider reports the address with different capitals.
    const invitee = await createPerson({ email: email.charAt(0).toUpperCase() + email.slice(1) });
    const result = await acceptInvitation(invitee.userCtx, { token });
    expect(result).toMatchObject({ tenant: { id: team.tenantId, slug: team.slug }, role: "OPERATOR" });
    expect(await db.membership.findFirst({ where: { tenantId: team.tenantId, userId: invitee.userId } })).toMatchObject({ role: "OPERATOR" });
    expect(await db.invitation.findUnique({ where: { id: invitation.id } })).toMatchObject({ acceptedById: invitee.userId, acceptedAt: expect.any(Date) });
    const events = await db.auditEvent.findMany({ where: { chainId: team.tenantId, actorId: invitee.userId }, orderBy: { seq: "asc" } });
    expect(events.map((e) => e.action)).toEqual(["invitation.accepted", "member.added"]);
  });

  it("someone signed in with another email is refused, clearly, and does not join", async () => {
    const team = await createTeam();
    const { token } = await createInvitation(await team.ctx(team.owner), { email: uniqueEmail("right"), role: "VIEWER" });
    const stranger = await createPerson();
    const err = await acceptInvitation(stranger.userCtx, { token }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVITATION_EMAIL_MISMATCH" });
    expect((err as Error).message).toContain("This invitation is for");
    expect(await db.membership.count({ where: { tenantId: team.tenantId, userId: stranger.userId } })).toBe(0);
  });

  it("a link works once", async () => {
    const team = await createTeam();
    const email = uniqueEmail("once");
    const { token } = await createInvitation(await team.ctx(team.owner), { email, role: "VIEWER" });
    const invitee = await createPerson({ email });
    await acceptInvitation(invitee.userCtx, { token });
    // Leave, then try to re-use the same link.
    await db.membership.deleteMany({ where: { tenantId: team.tenantId, userId: invitee.userId } });
    expect(await codeOf(() => acceptInvitation(invitee.userCtx, { token }))).toBe("INVITATION_USED");
    expect(await db.membership.count({ where: { tenantId: team.tenantId, userId: invitee.userId } })).toBe(0);
  });

  it("concurrent accepts of one link create one membership", async () => {
    const team = await createTeam();
    const email = uniqueEmail("race");
    const { token } = await createInvitation(await team.ctx(team.owner), { email, role: "VIEWER" });
    const invitee = await createPerson({ email });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => acceptInvitation(invitee.userCtx, { token })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await db.membership.count({ where: { tenantId: team.tenantId, userId: invitee.userId } })).toBe(1);
    expect(await db.auditEvent.count({ where: { chainId: team.tenantId, action: "invitation.accepted" } })).toBe(1);
  });

  it("an expired link is refused with INVITATION_EXPIRED", async () => {
    const team = await createTeam();
    const email = uniqueEmail("late");
    const { token, invitation } = await createInvitation(await team.ctx(team.owner), { email, role: "VIEWER" });
    await db.invitation.update({ where: { id: invitation.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const invitee = await createPerson({ email });
    expect(await codeOf(() => acceptInvitation(invitee.userCtx, { token }))).toBe("INVITATION_EXPIRED");
    expect((await previewInvitation(null, { token })).status).toBe("expired");
  });

  it("a revoked link is refused with INVITATION_REVOKED; revoking is audited", async () => {
    const team = await createTeam();
    const email = uniqueEmail("revoked");
    const { token, invitation } = await createInvitation(await team.ctx(team.owner), { email, role: "VIEWER" });
    await revokeInvitation(await team.ctx(team.admin), { invitationId: invitation.id });
    const invitee = await createPerson({ email });
    expect(await codeOf(() => acceptInvitation(invitee.userCtx, { token }))).toBe("INVITATION_REVOKED");
    expect(await db.auditEvent.count({ where: { chainId: team.tenantId, action: "invitation.revoked", targetId: invitation.id } })).toBe(1);
    expect(await listPendingInvitations(await team.ctx(team.owner))).toEqual([]);
  });

  it("an unknown or truncated token is NOT_FOUND", async () => {
    const p = await createPerson();
    expect(await codeOf(() => acceptInvitation(p.userCtx, { token: "A".repeat(43) }))).toBe("NOT_FOUND");
    expect(await codeOf(() => previewInvitation(null, { token: "B".repeat(43) }))).toBe("NOT_FOUND");
  });

  it("preview shows tenant, role and status before sign-in, and the problem after", async () => {
    const team = await createTeam();
    const email = uniqueEmail("preview");
    const { token } = await createInvitation(await team.ctx(team.owner), { email, role: "ADMIN" });
    expect(await previewInvitation(null, { token })).toMatchObject({ tenant: { name: team.name, slug: team.slug }, email, role: "ADMIN", status: "pending", problem: null });
    const stranger = await createPerson();
    expect((await previewInvitation(stranger.userCtx, { token })).problem).toMatchObject({ code: "INVITATION_EMAIL_MISMATCH" });
  });
});

describe("invitation scoping", () => {
  it("revoking another tenant's invitation is NOT_FOUND and leaves it pending", async () => {
    const [a, b] = [await createTeam(), await createTeam()];
    const { invitation } = await createInvitation(await b.ctx(b.owner), { email: uniqueEmail(), role: "VIEWER" });
    expect(await codeOf(async () => revokeInvitation(await a.ctx(a.owner), { invitationId: invitation.id }))).toBe("NOT_FOUND");
    expect((await db.invitation.findUniqueOrThrow({ where: { id: invitation.id } })).revokedAt).toBeNull();
    expect(await listPendingInvitations(await a.ctx(a.owner))).toEqual([]);
  });
});
