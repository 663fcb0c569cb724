/**
 * Proves the integration harness itself: the global setup's PostgreSQL is real, every committed
 * migration is applied, and the schema's constraints hold.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { db } from "~/server/db";
import { uniqueName } from "../helpers/unique";

afterAll(async () => {
  await db.$disconnect();
});

describe("database harness", () => {
  it("has every committed migration applied", async () => {
    const committed = readdirSync(path.join(process.cwd(), "prisma", "migrations"), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const applied = await db.$queryRaw<Array<{ migration_name: string }>>`
      select migration_name from _prisma_migrations
      where finished_at is not null and rolled_back_at is null
      order by migration_name`;
    expect(applied.map((m) => m.migration_name)).toEqual(committed);
  });

  it("round-trips a tenant", async () => {
    const slug = uniqueName("smoke");
    const created = await db.tenant.create({ data: { name: `Smoke ${slug}`, slug } });
    const found = await db.tenant.findUnique({ where: { slug } });
    expect(found).toMatchObject({ id: created.id, name: `Smoke ${slug}`, slug });
    await db.tenant.delete({ where: { id: created.id } });
    expect(await db.tenant.findUnique({ where: { slug } })).toBeNull();
  });

  it("enforces unique (tenantId, name) and nothing wider", async () => {
    const [a, b] = await Promise.all(
      ["a", "b"].map((x) => db.tenant.create({ data: { name: `Smoke ${x}`, slug: uniqueName(`smoke-${x}`) } })),
    );
    const key = (tenantId: string) => ({
      tenantId,
      name: "deploy",
      prefix: uniqueName("ck"),
      hash: "0".repeat(64),
      scopes: ["files:read"],
    });
    await db.apiKey.create({ data: key(a!.id) });
    await expect(db.apiKey.create({ data: key(a!.id) })).rejects.toMatchObject({ code: "P2002" });
    // The same name in another tenant is fine: names are unique per tenant only.
    await expect(db.apiKey.create({ data: key(b!.id) })).resolves.toMatchObject({ tenantId: b!.id, name: "deploy" });
    await db.tenant.deleteMany({ where: { id: { in: [a!.id, b!.id] } } });
    expect(await db.apiKey.count({ where: { tenantId: { in: [a!.id, b!.id] } } })).toBe(0);
  });
});
