import type { TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { db } from "~/server/db";
import { recordAudit } from "./record";
import type { AuditEventView, TAuditFilters } from "./query";
import { auditEventSelect, auditWhere } from "./query";

export type AuditExportFormat = "csv" | "jsonl";

export const CSV_COLUMNS = [
  "seq",
  "id",
  "occurredAt",
  "actorType",
  "actorId",
  "actorLabel",
  "action",
  "targetType",
  "targetId",
  "outcome",
  "ip",
  "userAgent",
  "requestId",
  "before",
  "after",
  "prevHash",
  "hash",
] as const satisfies readonly (keyof AuditEventView)[];

/**
 * One CSV cell (RFC 4180). Cells that a spreadsheet would run as a formula (`=`, `+`, `-`,
 * `@`, tab, CR first) get a leading apostrophe: the log holds user-controlled text (names,
 * user agents) and an export must not become an attack on whoever opens it.
 */
export function csvCell(value: unknown): string {
  let s: string;
  if (value === null || value === undefined) s = "";
  else if (value instanceof Date) s = value.toISOString();
  else if (typeof value === "object") s = JSON.stringify(value);
  else s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(e: AuditEventView): string {
  return CSV_COLUMNS.map((c) => csvCell(e[c])).join(",") + "\r\n";
}

export function jsonlRow(e: AuditEventView): string {
  return JSON.stringify({ ...e, occurredAt: e.occurredAt.toISOString() }) + "\n";
}

const PAGE = 500;

/**
 * Streams the tenant's events matching `filters`, oldest first (chain order), page by page:
 * memory stays flat however long the log is. Records `audit.exported` before the first byte.
 */
export async function* exportAuditEvents(ctx: TenantContext, filters: TAuditFilters, format: AuditExportFormat): AsyncGenerator<string> {
  authorize(ctx, "audit:export");
  await db.$transaction((tx) => recordAudit(tx, ctx, { action: "audit.exported", target: { type: "tenant", id: ctx.tenantId }, after: { format, filters } }));
  if (format === "csv") yield CSV_COLUMNS.join(",") + "\r\n";
  let after = 0;
  for (;;) {
    const where = auditWhere(ctx.tenantId, filters);
    where.seq = { gt: after };
    const page = await db.auditEvent.findMany({ where, orderBy: { seq: "asc" }, take: PAGE, select: auditEventSelect });
    if (page.length === 0) return;
    yield page.map(format === "csv" ? csvRow : jsonlRow).join("");
    after = page[page.length - 1]!.seq;
    if (page.length < PAGE) return;
  }
}

/** A web `ReadableStream` of the export (for route handlers). */
export function exportAuditStream(ctx: TenantContext, filters: TAuditFilters, format: AuditExportFormat): ReadableStream<Uint8Array> {
  const it = exportAuditEvents(ctx, filters, format);
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await it.next();
        if (done) controller.close();
        else controller.enqueue(enc.encode(value));
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel() {
      await it.return(undefined);
    },
  });
}
