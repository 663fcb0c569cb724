/**
 * Prints a fresh one-time join token for the demo tenant, so `scripts/up` can join its local
 * worker to the control plane. Goes through the same service as the UI (audited, hashed at
 * rest); the actor is SYSTEM ("scripts/up").
 *
 *   DATABASE_URL=... node --import tsx scripts/lib/dev-join-token.ts <controlPlaneUrl> [tenantSlug]
 */
import { randomUUID } from "node:crypto";
import { db } from "~/server/db";
import { createJoinToken } from "~/server/services/node-join";

const [controlPlaneUrl, slug = "demo"] = process.argv.slice(2);

async function main(): Promise<void> {
  if (!controlPlaneUrl) throw new Error("usage: dev-join-token.ts <controlPlaneUrl> [tenantSlug]");
  const tenant = await db.tenant.findUnique({ where: { slug } });
  if (!tenant) throw new Error(`no tenant with slug "${slug}" (did the seed run?)`);
  const created = await createJoinToken(
    { actor: { type: "SYSTEM", label: "scripts/up" }, tenantId: tenant.id, role: null, meta: { requestId: randomUUID() } },
    { controlPlaneUrl, labels: { env: "dev" } },
  );
  process.stdout.write(`${created.token}\n`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`dev-join-token: ${(err as Error).message}\n`);
    process.exitCode = 1;
  })
  .finally(() => db.$disconnect());
