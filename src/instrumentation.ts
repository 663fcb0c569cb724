/**
 * Runs once per server process (Next.js instrumentation hook). Schedules the audit retention
 * purge on the Node.js runtime: every AUDIT_RETENTION_INTERVAL_MINUTES (default 60, 0 = off).
 * Several replicas may run it at the same time; each tenant's purge holds its chain-head lock,
 * so they simply take turns.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const minutes = Number(process.env.AUDIT_RETENTION_INTERVAL_MINUTES ?? 60);
  if (!Number.isFinite(minutes) || minutes <= 0) return;
  const [{ db }, { purgeExpiredAuditEvents }, { logger }] = await Promise.all([
    import("~/server/db"),
    import("~/server/audit/retention"),
    import("~/server/logger"),
  ]);
  const run = async () => {
    try {
      const purged = await purgeExpiredAuditEvents(db);
      if (purged.length > 0) logger.info({ purged }, "audit retention purge");
    } catch (err) {
      logger.error({ err }, "audit retention purge failed");
    }
  };
  // First run shortly after start (not during it), then on the interval; never keeps the process alive.
  setTimeout(() => void run(), 60_000).unref();
  setInterval(() => void run(), minutes * 60_000).unref();
}
