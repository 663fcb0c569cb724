/**
 * The data B6/B7 measure against, made through the services (so it is exactly what the API
 * would have created): a tenant, its owner, shared files, a read-only API key; for B7 more files
 * and real nodes joined with join tokens. Shared by bench/http/run.ts and bench/http/ab.ts.
 */

export interface Seeded {
  apiKey: string;
  tenantId: string;
  ctx: {
    actor: { type: "USER"; userId: string; label: string; isPlatformAdmin: boolean };
    tenantId: string;
    role: "OWNER";
    meta: { requestId: string; ip: string; userAgent: string };
  };
}

export const fileName = (i: number): string => `bench.file-${String(i).padStart(5, "0")}`;

/** A tenant with `files` shared files (variables and stream, alternating) and an API key (files:read). */
export async function seed(databaseUrl: string, files: number): Promise<Seeded> {
  process.env.DATABASE_URL = databaseUrl;
  const { db } = await import("~/server/db");
  const { createApiKey } = await import("~/server/services/api-keys");
  const { createSharedFile } = await import("~/server/services/shared-files");
  const tenant = await db.tenant.create({ data: { name: "Bench", slug: "bench" } });
  const user = await db.user.create({ data: { email: "bench@commy.local", name: "Bench" } });
  await db.membership.create({ data: { tenantId: tenant.id, userId: user.id, role: "OWNER" } });
  const ctx: Seeded["ctx"] = {
    actor: { type: "USER", userId: user.id, label: "bench", isPlatformAdmin: false },
    tenantId: tenant.id,
    role: "OWNER",
    meta: { requestId: "bench-seed", ip: "127.0.0.1", userAgent: "bench" },
  };
  for (let i = 0; i < files; i++) {
    const stream = i % 2 === 1;
    await createSharedFile(ctx, {
      name: fileName(i),
      description: `benchmark file ${i}`,
      kind: stream ? "stream" : "variables",
      pattern: stream ? "publish-subscribe" : "blackboard",
      layout: stream
        ? { type: "stream", messageMaxSize: 256, capacity: 1024, overflow: "overwrite" }
        : { type: "variables", slots: [{ name: "value", maxSize: 64 }, { name: "status", maxSize: 16 }] },
    });
  }
  const key = await createApiKey(ctx, { name: "bench", scopes: ["files:read"] });
  // Planner statistics, as autovacuum gathers them within a minute on a live database: without
  // them the first minute of a fresh database plans the page query as a sort of all the rows.
  await db.$executeRawUnsafe("ANALYZE");
  return { apiKey: key.secret, tenantId: tenant.id, ctx };
}

/**
 * B7 scale: grows the tenant from `files` to `totalFiles` shared files (copies of the first two, a
 * variables and a stream file made by the service, under new names: one INSERT … SELECT) and
 * joins `nodes` nodes through the real join-token exchange. Returns the node credentials.
 */
export async function seedScale(seeded: Seeded, files: number, totalFiles: number, nodes: number): Promise<string[]> {
  const { db } = await import("~/server/db");
  const { createJoinToken, exchangeJoinToken } = await import("~/server/services/node-join");
  if (totalFiles > files) {
    const cols = (
      await db.$queryRaw<{ column_name: string }[]>`SELECT column_name::text AS column_name FROM information_schema.columns WHERE table_name = 'SharedFile' ORDER BY ordinal_position`
    ).map((c) => c.column_name);
    const list = cols.map((c) => `"${c}"`).join(", ");
    const values = cols
      // apiJson is the copied file's own API form (its id and name): left NULL, the list renders the copy.
      .map((c) => (c === "id" ? `'bf' || md5(random()::text || g::text)` : c === "name" ? `'bench.file-' || lpad(g::text, 5, '0')` : c === "apiJson" ? "NULL" : `t."${c}"`))
      .join(", ");
    await db.$executeRawUnsafe(
      `INSERT INTO "SharedFile" (${list})
       SELECT ${values} FROM generate_series(${files}::int, ${totalFiles - 1}::int) g
       JOIN "SharedFile" t ON t."tenantId" = $1 AND t.name = CASE WHEN g % 2 = 0 THEN '${fileName(0)}' ELSE '${fileName(1)}' END`,
      seeded.tenantId,
    );
  }
  const credentials: string[] = [];
  const capabilities = { shmBytes: 1 << 30, ipcNamespace: "4026531839", bootId: "bench", platform: "linux", arch: "x64", cpus: 2 };
  let next = 0;
  const joinOne = async (): Promise<void> => {
    for (let i = next++; i < nodes; i = next++) {
      const { token } = await createJoinToken(seeded.ctx, { controlPlaneUrl: "http://127.0.0.1" });
      const joined = await exchangeJoinToken(
        { token, hostname: `bench-node-${String(i).padStart(4, "0")}`, version: "bench", labels: {}, capabilities },
        { requestId: `bench-join-${i}`, ip: "127.0.0.1", userAgent: "bench" },
      );
      credentials.push(joined.credential);
    }
  };
  await Promise.all(Array.from({ length: 8 }, joinOne));
  await db.$executeRawUnsafe("ANALYZE");
  return credentials;
}
