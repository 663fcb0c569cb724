import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "~/generated/prisma";
import { pgConfigFromUrl } from "./db-config";

/**
 * The one Prisma client of a process. Prisma 6 with the JS query compiler over `pg`
 * (no native engine to download). Reused across hot reloads in development.
 */
function createPrismaClient(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set (see README: Configuration)");
  const adapter = new PrismaPg(pgConfigFromUrl(url, { max: Number(process.env.DATABASE_POOL_SIZE ?? 10) }));
  // Interactive transactions queue for a pooled connection (maxWait) and hold row locks (the
  // audit chain head, the tenant row for membership changes) while they run: give bursts of
  // concurrent writers room to wait their turn instead of failing after Prisma's 2 s default.
  return new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 20_000 } });
}

const globalForPrisma = globalThis as unknown as { commyPrisma?: PrismaClient };

/**
 * Created on first use, not at import: `next build` imports route modules to collect their
 * config without a database (CI builds have no DATABASE_URL), and pure modules that happen to
 * share an import graph with the client must stay importable in unit tests.
 */
function getClient(): PrismaClient {
  const client = (globalForPrisma.commyPrisma ??= createPrismaClient());
  return client;
}

export const db: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, prop) {
    const client = getClient();
    const value: unknown = Reflect.get(client, prop, client);
    return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(client) : value;
  },
  has(_target, prop) {
    return Reflect.has(getClient(), prop);
  },
});

export type Db = PrismaClient;
