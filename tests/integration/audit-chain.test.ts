/**
 * The audit hash chain against a real PostgreSQL: concurrent writers, tampering, retention,
 * queries and export.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { TenantContext } from "~/server/actor";
import { exportAuditEvents } from "~/server/audit/export";
import { listAuditEvents } from "~/server/audit/query";
import { recordAudit } from "~/server/audit/record";
import { purgeTenantAudit } from "~/server/audit/retention";
import { verifyChain } from "~/server/audit/verify";
import { GENESIS_HASH, hashAuditEvent, type HashedAuditFields } from "~/server/audit/canonical";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import { createTeam, testMeta } from "./core-fixtures";

afterAll(async () => {
  await db.$disconnect();
});

async function append(ctx: TenantContext, n: number, action: "file.created" | "file.updated" = "file.created") {
  for (let i = 0; i < n; i++) {
    await db.$transaction((tx) => recordAudit(tx, ctx, { action, target: { type: "shared_file", id: `f${i}` }, after: { i } }));
  }
}

async function chain(tenantId: string) {
  return db.auditEvent.findMany({ where: { chainId: tenantId }, orderBy: { seq: "asc" } });
}

describe("audit chain under concurrent writers", () => {
  it("50 parallel transactions append one linear chain that verifies", async () => {
    const team = await createTeam();
    const ctx = await team.ctx(team.owner);
    const before = (await chain(team.tenantId)).length; // tenant.created

    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db.$transaction(async (tx) => {
          // Some work before the append, so transactions really overlap.
          await tx.$executeRaw`SELECT pg_sleep(${(i % 5) / 1000})`;
          return recordAudit(tx, { ...ctx, meta: testMeta() }, { action: "file.updated", target: { type: "shared_file", id: `f${i}` }, after: { i } });
        }),
      ),
    );

    const events = await chain(team.tenantId);
    expect(events).toHaveLength(before + 50);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: before + 50 }, (_, i) => i + 1));
    expect(new Set(results.map((r) => r.seq)).size).toBe(50);
    expect(events[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < events.length; i++) expect(events[i]!.prevHash).toBe(events[i - 1]!.hash);
    // Time never goes backwards along the chain.
    for (let i = 1; i < events.length; i++) expect(events[i]!.occurredAt.getTime()).toBeGreaterThanOrEqual(events[i - 1]!.occurredAt.getTime());

    const v = await verifyChain(db, team.tenantId);
    expect(v).toMatchObject({ ok: true, checked: before + 50, headSeq: before + 50, firstBroken: null });
  });

  it("two tenants writing at once keep separate chains", async () => {
    const [a, b] = [await createTeam(), await createTeam()];
    const [ca, cb] = [await a.ctx(a.owner), await b.ctx(b.owner)];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => db.$transaction((tx) => recordAudit(tx, i % 2 ? ca : cb, { action: "file.created", target: { type: "shared_file", id: String(i) } }))),
    );
    expect((await verifyChain(db, a.tenantId)).ok).toBe(true);
    expect((await verifyChain(db, b.tenantId)).ok).toBe(true);
    expect((await chain(a.tenantId)).every((e) => e.tenantId === a.tenantId)).toBe(true);
    expect(await db.auditEvent.count({ where: { chainId: a.tenantId } })).toBe(11);
  });

  it("an event rolled back with its transaction leaves no gap", async () => {
    const team = await createTeam();
    const ctx = await team.ctx(team.owner);
    await expect(
      db.$transaction(async (tx) => {
        await recordAudit(tx, ctx, { action: "file.created", target: { type: "shared_file", id: "x" } });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    await append(ctx, 2);
    const v = await verifyChain(db, team.tenantId);
    expect(v.ok).toBe(true);
    expect(v.headSeq).toBe(3);
  });
});

describe("verifyChain detects tampering", () => {
  it("reports a changed row as hash_mismatch at its seq and id", async () => {
    const team = await createTeam();
    await append(await team.ctx(team.owner), 9);
    const victim = (await chain(team.tenantId)).find((e) => e.seq === 6)!;
    await db.$executeRaw`UPDATE "AuditEvent" SET "action" = 'file.deleted' WHERE "id" = ${victim.id}`;
    const v = await verifyChain(db, team.tenantId);
    expect(v.ok).toBe(false);
    expect(v.firstBroken).toMatchObject({ seq: 6, id: victim.id, reason: "hash_mismatch", actual: victim.hash });
    expect(v.firstBroken!.expected).not.toBe(victim.hash);
    expect(v.checked).toBe(5);
  });

  it("reports a changed before/after payload", async () => {
    const team = await createTeam();
    await append(await team.ctx(team.owner), 3);
    const victim = (await chain(team.tenantId)).find((e) => e.seq === 3)!;
    await db.$executeRaw`UPDATE "AuditEvent" SET "after" = '{"i": 999}'::jsonb WHERE "id" = ${victim.id}`;
    expect((await verifyChain(db, team.tenantId)).firstBroken).toMatchObject({ seq: 3, reason: "hash_mismatch" });
  });

  it("reports a row rewritten with a recomputed hash as a broken link to the next event", async () => {
    const team = await createTeam();
    await append(await team.ctx(team.owner), 5);
    const events = await chain(team.tenantId);
    const victim = events.find((e) => e.seq === 3)!;
    const forged = { ...victim, actorLabel: "someone-else" };
    const forgedHash = hashAuditEvent(forged);
    await db.auditEvent.update({ where: { id: victim.id }, data: { actorLabel: "someone-else", hash: forgedHash } });
    const v = await verifyChain(db, team.tenantId);
    expect(v.firstBroken).toMatchObject({ seq: 4, reason: "prev_hash_mismatch", expected: forgedHash, actual: victim.hash });
  });

  it("reports a deleted middle event as seq_gap", async () => {
    const team = await createTeam();
    await append(await team.ctx(team.owner), 5);
    await db.auditEvent.deleteMany({ where: { chainId: team.tenantId, seq: 4 } });
    const v = await verifyChain(db, team.tenantId);
    expect(v.firstBroken).toMatchObject({ seq: 5, reason: "seq_gap", expected: "4", actual: "5" });
  });

  it("reports removed newest events as head_mismatch", async () => {
    const team = await createTeam();
    await append(await team.ctx(team.owner), 5);
    await db.auditEvent.deleteMany({ where: { chainId: team.tenantId, seq: { gte: 5 } } });
    const v = await verifyChain(db, team.tenantId);
    expect(v.ok).toBe(false);
    expect(v.firstBroken).toMatchObject({ seq: 5, reason: "head_mismatch" });
  });
});

describe("retention", () => {
  it("purges expired events, moves the anchor and keeps the chain verifiable", async () => {
    const team = await createTeam();
    const ctx = await team.ctx(team.owner);
    await append(ctx, 6);
    await new Promise((r) => setTimeout(r, 5));
    const cutoff = new Date();
    await new Promise((r) => setTimeout(r, 5));
    const lastPurged = (await chain(team.tenantId)).at(-1)!;

    expect(await purgeTenantAudit(db, team.tenantId, cutoff)).toBe(7);
    const remaining = await chain(team.tenantId);
    expect(remaining.map((e) => e.action)).toEqual(["audit.purged"]);
    expect(remaining[0]).toMatchObject({ seq: 8, prevHash: lastPurged.hash, actorType: "SYSTEM" });
    expect(await db.auditChainHead.findUnique({ where: { chainId: team.tenantId } })).toMatchObject({ anchorSeq: 7, anchorHash: lastPurged.hash, purged: 7 });

    await append(ctx, 2);
    expect(await verifyChain(db, team.tenantId)).toMatchObject({ ok: true, checked: 3, anchorSeq: 7, purged: 7, headSeq: 10 });
    // Nothing expired any more: a second run changes nothing.
    expect(await purgeTenantAudit(db, team.tenantId, cutoff)).toBe(0);
  });

  it("keeps events newer than the cutoff", async () => {
    const team = await createTeam();
    await append(await team.ctx(team.owner), 3);
    expect(await purgeTenantAudit(db, team.tenantId, new Date(Date.now() - 60_000))).toBe(0);
    expect(await db.auditEvent.count({ where: { chainId: team.tenantId } })).toBe(4);
  });
});

describe("audit list and export", () => {
  it("filters by action prefix, actor, target and time, and pages with a cursor without gaps or repeats", async () => {
    const team = await createTeam();
    const owner = await team.ctx(team.owner);
    const admin = await team.ctx(team.admin);
    await append(owner, 4, "file.created");
    await append(admin, 3, "file.updated");

    const all = await listAuditEvents(owner, { filters: { action: "file." }, limit: 200 });
    expect(all.items).toHaveLength(7);
    expect(all.items.map((e) => e.seq)).toEqual([...all.items.map((e) => e.seq)].sort((a, b) => b - a));

    const byAdmin = await listAuditEvents(owner, { filters: { actor: team.admin.email.toUpperCase() } });
    expect(byAdmin.items.map((e) => e.action)).toEqual(["file.updated", "file.updated", "file.updated"]);
    expect((await listAuditEvents(owner, { filters: { actor: team.admin.userId } })).items).toHaveLength(3);

    const target = await listAuditEvents(owner, { filters: { targetType: "shared_file", targetId: "f1" } });
    expect(target.items).toHaveLength(2);

    const exact = await listAuditEvents(owner, { filters: { action: "tenant.created" } });
    expect(exact.items).toHaveLength(1);

    const future = await listAuditEvents(owner, { filters: { from: new Date(Date.now() + 60_000) } });
    expect(future.items).toHaveLength(0);

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof listAuditEvents>> = await listAuditEvents(owner, { filters: { action: "file." }, limit: 3, cursor });
      seen.push(...page.items.map((e) => e.seq));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.items.map((e) => e.seq));
  });

  it("rejects a malformed cursor on the cursor field", async () => {
    const team = await createTeam();
    const err = await listAuditEvents(await team.ctx(team.owner), { cursor: "not a cursor!" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).fields).toHaveProperty("cursor");
  });

  it("never returns another tenant's events", async () => {
    const [a, b] = [await createTeam(), await createTeam()];
    await append(await b.ctx(b.owner), 3);
    const list = await listAuditEvents(await a.ctx(a.owner), { limit: 200 });
    expect(list.items.length).toBeGreaterThan(0);
    const bIds = new Set((await chain(b.tenantId)).map((e) => e.id));
    expect(list.items.some((e) => bIds.has(e.id))).toBe(false);
  });

  it("a viewer may read but not export", async () => {
    const team = await createTeam();
    const viewer = await team.ctx(team.viewer);
    await expect(listAuditEvents(viewer, {})).resolves.toBeTruthy();
    await expect(exportAuditEvents(viewer, {}, "csv").next()).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("exports CSV and JSON Lines whose rows re-verify offline, and records the export", async () => {
    const team = await createTeam();
    const ctx = await team.ctx(team.owner);
    await db.$transaction((tx) =>
      recordAudit(tx, ctx, { action: "member.role_changed", target: { type: "user", id: "u1" }, before: { role: "VIEWER" }, after: { note: 'has "quotes", commas\nand =SUM(A1)' } }),
    );

    let jsonl = "";
    for await (const chunk of exportAuditEvents(ctx, {}, "jsonl")) jsonl += chunk;
    const rows = jsonl.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    // tenant.created, member.role_changed, audit.exported (recorded before streaming)
    expect(rows.map((r) => r.action)).toEqual(["tenant.created", "member.role_changed", "audit.exported"]);
    for (const r of rows) {
      const recomputed = hashAuditEvent({
        ...(r as unknown as HashedAuditFields),
        chainId: team.tenantId,
        tenantId: team.tenantId,
        occurredAt: new Date(r.occurredAt as string),
      });
      expect(recomputed).toBe(r.hash);
    }

    let csv = "";
    for await (const chunk of exportAuditEvents(ctx, { action: "member." }, "csv")) csv += chunk;
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe("seq,id,occurredAt,actorType,actorId,actorLabel,action,targetType,targetId,outcome,ip,userAgent,requestId,before,after,prevHash,hash");
    expect(csv).toContain("member.role_changed");
    expect(csv).not.toContain("tenant.created");
    // JSON cells are quoted with inner quotes doubled (RFC 4180), so commas and newlines stay inside.
    expect(csv).toContain('"{""role"":""VIEWER""}"');
    expect(lines).toHaveLength(3); // header, one row, trailing empty string

    const exported = await listAuditEvents(ctx, { filters: { action: "audit.exported" } });
    expect(exported.items).toHaveLength(2);
    expect(exported.items[0]!.after).toMatchObject({ format: "csv", filters: { action: "member." } });
  });
});
