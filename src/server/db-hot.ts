import pg from "pg";
import { pgConfigFromUrl } from "./db-config";

/**
 * A plain `pg` pool for the API's hottest reads (today: the shared-file list behind B6),
 * next to the Prisma client (`db.ts`) that everything else uses.
 *
 * Why: measured on this machine, a keyset page of 20 files costs ~2× more through Prisma 6's
 * `$queryRaw` than through `pg` directly, and `findMany` ~2× more again (the JS query compiler
 * and result mapping run on the event loop, which the whole request shares). Only reads with a
 * fixed, reviewed SQL text belong here; writes stay on Prisma (transactions, audit).
 *
 * Prisma stores `DateTime` as UTC in `timestamp without time zone` columns; pg would parse those
 * as local time. This pool parses them as UTC (its own type parsers: the global `pg.types`,
 * which Prisma's adapter also sees, is left alone).
 */
const TIMESTAMP_OID = 1114;
const utcTimestamps: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid === TIMESTAMP_OID && format !== "binary") return (v: string) => new Date(`${v.replace(" ", "T")}Z`);
    return pg.types.getTypeParser(oid, format as "text");
  }) as pg.CustomTypesConfig["getTypeParser"],
};

const globalForPool = globalThis as unknown as { commyHotPool?: pg.Pool };

/** The pool, created on first use (importing this module needs no database). */
export function hotPool(): pg.Pool {
  if (!globalForPool.commyHotPool) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set (see README: Configuration)");
    const pool = new pg.Pool(
      pgConfigFromUrl(url, {
        max: Number(process.env.DATABASE_HOT_POOL_SIZE ?? 10),
        types: utcTimestamps,
        idleTimeoutMillis: 30_000,
        // Idle connections must not keep test runners and scripts alive.
        allowExitOnIdle: true,
      }),
    );
    // An idle client losing its connection (database restart) must not crash the process;
    // the pool replaces it on the next query.
    pool.on("error", () => undefined);
    globalForPool.commyHotPool = pool;
  }
  return globalForPool.commyHotPool;
}
