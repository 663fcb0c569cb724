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

const globalForPool = globalThis as unknown as { commyHotPool?: pg.Pool; commyLivenessPool?: pg.Pool };

function createPool(max: number, overrides: Partial<pg.PoolConfig> = {}): pg.Pool {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set (see README: Configuration)");
  const pool = new pg.Pool(
    pgConfigFromUrl(url, {
      max,
      types: utcTimestamps,
      idleTimeoutMillis: 30_000,
      // Idle connections must not keep test runners and scripts alive.
      allowExitOnIdle: true,
      ...overrides,
    }),
  );
  // An idle client losing its connection (database restart) must not crash the process;
  // the pool replaces it on the next query.
  pool.on("error", () => undefined);
  return pool;
}

/** The pool, created on first use (importing this module needs no database). */
export function hotPool(): pg.Pool {
  globalForPool.commyHotPool ??= createPool(Number(process.env.DATABASE_HOT_POOL_SIZE ?? 10));
  return globalForPool.commyHotPool;
}

/**
 * The pool for worker heartbeats (one UPDATE each, hundreds per second with many nodes), apart
 * from the API's reads so that they never queue behind heartbeats. Its sessions commit with
 * `synchronous_commit = off`: a heartbeat does not wait for the WAL flush. What that risks is
 * only liveness: if PostgreSQL itself crashes, the last fraction of a second of heartbeat
 * timestamps is lost and the next heartbeats (seconds later) write them again. Nothing else
 * runs on this pool.
 */
export function livenessPool(): pg.Pool {
  globalForPool.commyLivenessPool ??= createPool(Number(process.env.DATABASE_LIVENESS_POOL_SIZE ?? 4), { options: "-c synchronous_commit=off" });
  return globalForPool.commyLivenessPool;
}
