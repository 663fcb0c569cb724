import { db } from "~/server/db";
import { AppError } from "~/server/errors";

/**
 * Fixed-window counters in PostgreSQL (`RateLimitBucket`), so every control-plane replica
 * counts into the same window. The window boundaries come from the database clock, not the
 * replica's, so replicas with skewed clocks still agree on which window a hit belongs to.
 */

/** A 429 that carries how long to wait; the REST layer turns it into `Retry-After`. */
export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super("RATE_LIMITED", message);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

export interface WindowHit {
  /** Hits in the current window, including this one. */
  count: number;
  /** Seconds until the current window ends. */
  retryAfterSeconds: number;
}

/** Counts one hit for `key` in the current `windowSeconds` window (atomic upsert). */
export async function hitFixedWindow(key: string, windowSeconds: number): Promise<WindowHit> {
  const rows = await db.$queryRaw<{ count: number; remaining: number }[]>`
    INSERT INTO "RateLimitBucket" ("key", "windowStart", "count")
    VALUES (${key}, to_timestamp(floor(extract(epoch FROM now()) / ${windowSeconds}::int) * ${windowSeconds}::int) AT TIME ZONE 'UTC', 1)
    ON CONFLICT ("key") DO UPDATE SET
      "count" = CASE WHEN "RateLimitBucket"."windowStart" = EXCLUDED."windowStart" THEN "RateLimitBucket"."count" + 1 ELSE 1 END,
      "windowStart" = EXCLUDED."windowStart"
    RETURNING "count",
      extract(epoch FROM ("windowStart" + make_interval(secs => ${windowSeconds}::int) - (now() AT TIME ZONE 'UTC')))::float8 AS "remaining"`;
  const row = rows[0];
  if (!row) throw new Error("rate-limit upsert returned no row");
  // Old buckets (IPs seen once) would otherwise accumulate forever; sweeping on a small share
  // of hits keeps the table bounded without a scheduler.
  if (Math.random() < 0.01) {
    void db.$executeRaw`DELETE FROM "RateLimitBucket" WHERE "windowStart" < (now() AT TIME ZONE 'UTC') - interval '1 day'`.catch(() => undefined);
  }
  return { count: Number(row.count), retryAfterSeconds: Math.max(1, Number(row.remaining)) };
}

/** Test helper: forget every bucket whose key starts with `prefix`. */
export async function resetRateLimits(prefix: string): Promise<void> {
  await db.$executeRaw`DELETE FROM "RateLimitBucket" WHERE "key" LIKE ${prefix.replace(/[\\%_]/g, "\\$&") + "%"}`;
}
