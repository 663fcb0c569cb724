/**
 * Vitest global setup for the `integration` project: one real PostgreSQL and one real Redis on
 * private 127.0.0.1 ports in a temp dir, migrations applied, torn down by PID afterwards.
 *
 * Test files read the services from the environment, which the test workers inherit (they are
 * started after this setup): `DATABASE_URL`, `REDIS_URL`. Importing `~/server/db` at the top of
 * a test file is therefore safe. The same values are also available through vitest's
 * `inject("databaseUrl")` / `inject("redisUrl")`.
 *
 * Set COMMY_TEST_KEEP_DATA=1 to keep the temp dir (its path is printed) for a post-mortem.
 */
import type { TestProject } from "vitest/node";
import { makeTestDir, migrateDatabase, startPostgres, startRedis } from "../../scripts/lib/services";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tmp = makeTestDir("commy-integration-");
  const stops: Array<() => Promise<void>> = [];
  const teardown = async () => {
    // Every step runs even when an earlier one fails; services go first, then their files.
    const results = await Promise.allSettled(stops.reverse().map((stop) => stop()));
    if (process.env.COMMY_TEST_KEEP_DATA === "1") console.log(`[integration] kept ${tmp.dir}`);
    else tmp.cleanup();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  };

  try {
    const [pg, redis] = await Promise.all([
      startPostgres({ dataDir: `${tmp.dir}/postgres`, ephemeral: true, database: "commy_test" }).then((s) => {
        stops.push(s.stop);
        return s;
      }),
      startRedis({ dir: `${tmp.dir}/redis`, persist: false }).then((s) => {
        stops.push(s.stop);
        return s;
      }),
    ]);
    await migrateDatabase(pg.url);

    process.env.DATABASE_URL = pg.url;
    process.env.REDIS_URL = redis.url;
    project.provide("databaseUrl", pg.url);
    project.provide("redisUrl", redis.url);
  } catch (err) {
    await teardown().catch(() => undefined);
    throw err;
  }
  return teardown;
}
