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
  return new PrismaClient({ adapter });
}

const globalForPrisma = globalThis as unknown as { commyPrisma?: PrismaClient };

export const db: PrismaClient = globalForPrisma.commyPrisma ?? createPrismaClient();
if (process.env.NODE_ENV !== "production") globalForPrisma.commyPrisma = db;

export type Db = PrismaClient;
