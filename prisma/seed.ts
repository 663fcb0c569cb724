/**
 * Development seed: the demo tenant and the demo user who owns it. Idempotent: run it as often
 * as you like (`scripts/up` runs it on every start); it only creates what is missing and never
 * changes what a developer edited (e.g. a renamed tenant keeps its new name).
 *
 *   DATABASE_URL=... node --import tsx prisma/seed.ts     (or: npx prisma db seed)
 *
 * The demo user signs in through the local OIDC provider (dev/oidc-provider) as
 * demo@commy.local / demo. The provider's subject is the e-mail address, so the seed also
 * links the next-auth Account row (provider id "oidc"): the first sign-in then finds this
 * user instead of refusing an unlinked account with the same e-mail.
 */
import { db } from "~/server/db";
import { DEMO_USER } from "../dev/oidc-provider/accounts";

const DEMO_TENANT = { slug: "demo", name: "Demo" } as const;
/** next-auth provider id of the generic/local OIDC provider. */
const LOCAL_OIDC_PROVIDER_ID = "oidc";

async function main(): Promise<void> {
  const user = await db.user.upsert({
    where: { email: DEMO_USER.email },
    create: { email: DEMO_USER.email, name: DEMO_USER.name, emailVerified: new Date() },
    update: {},
  });

  await db.account.upsert({
    where: {
      provider_providerAccountId: { provider: LOCAL_OIDC_PROVIDER_ID, providerAccountId: DEMO_USER.email },
    },
    create: {
      userId: user.id,
      type: "oauth",
      provider: LOCAL_OIDC_PROVIDER_ID,
      providerAccountId: DEMO_USER.email,
    },
    update: {},
  });

  const tenant = await db.tenant.upsert({
    where: { slug: DEMO_TENANT.slug },
    create: { slug: DEMO_TENANT.slug, name: DEMO_TENANT.name },
    update: {},
  });

  await db.membership.upsert({
    where: { tenantId_userId: { tenantId: tenant.id, userId: user.id } },
    create: { tenantId: tenant.id, userId: user.id, role: "OWNER" },
    update: {},
  });

  console.log(`seed: tenant "${tenant.name}" (${tenant.slug}) owned by ${user.email}`);
}

main()
  .catch((err: unknown) => {
    console.error("seed failed:", err);
    process.exitCode = 1;
  })
  .finally(() => db.$disconnect());
