/**
 * Real services for tests that need their own (beyond the integration project's shared
 * PostgreSQL/Redis from tests/integration/global-setup.ts): e.g. a second Redis to cut off,
 * or a PostgreSQL to stop mid-test. Same helpers as `scripts/up`; all on 127.0.0.1, all stopped
 * by PID.
 *
 *   const tmp = makeTestDir();
 *   const redis = await startRedis({ dir: `${tmp.dir}/redis` });
 *   ...
 *   await redis.stop(); tmp.cleanup();
 */
export {
  freePort,
  makeTestDir,
  migrateDatabase,
  redisPing,
  startPostgres,
  startRedis,
  stopPid,
  type PostgresService,
  type RedisService,
  type RunningService,
} from "../../scripts/lib/services";
