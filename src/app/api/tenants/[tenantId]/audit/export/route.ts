import { authenticateRequest } from "~/server/api/authenticate";
import { requestMetaFromHeaders } from "~/server/api/request-meta";
import { authorize } from "~/server/actor";
import { exportAuditStream } from "~/server/audit/export";
import { zodFieldErrors } from "~/server/contracts/common";
import { ZAuditExportFormat, ZAuditFilters } from "~/server/contracts/audit";
import { AppError, isAppError } from "~/server/errors";
import { resolveTenantContext } from "~/server/services/tenant-context";

export const dynamic = "force-dynamic";

function errorResponse(err: AppError, requestId: string): Response {
  return Response.json(
    { error: { code: err.code, message: err.userMessage, ...(err.fields ? { fields: err.fields } : {}), requestId } },
    { status: err.httpStatus, headers: { "x-request-id": requestId } },
  );
}

/**
 * GET /api/tenants/{tenantId}/audit/export?format=csv|jsonl&actor=&action=&targetType=&targetId=&outcome=&from=&to=
 *
 * Streams the tenant's audit events (oldest first) as a download; memory stays flat however
 * long the log is. Session cookie or API key; needs `audit:export`. The export itself is
 * recorded (`audit.exported`).
 */
export async function GET(req: Request, context: { params: Promise<{ tenantId: string }> }): Promise<Response> {
  const meta = requestMetaFromHeaders(req.headers);
  try {
    const { tenantId } = await context.params;
    const { actor, authError } = await authenticateRequest(req.headers, meta);
    if (authError) throw authError;
    if (!actor) throw new AppError("UNAUTHENTICATED", "Sign in or pass an API key");
    const tenant = await resolveTenantContext(actor, tenantId, meta);
    authorize(tenant, "audit:export");

    const params = Object.fromEntries(new URL(req.url).searchParams);
    const { format: rawFormat, ...rawFilters } = params;
    const format = ZAuditExportFormat.safeParse(rawFormat ?? "csv");
    if (!format.success) throw AppError.validation({ format: ["Use csv or jsonl"] });
    const filters = ZAuditFilters.safeParse(rawFilters);
    if (!filters.success) throw AppError.validation(zodFieldErrors(filters.error));

    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const ext = format.data === "csv" ? "csv" : "jsonl";
    return new Response(exportAuditStream(tenant, filters.data, format.data), {
      headers: {
        "content-type": format.data === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
        "content-disposition": `attachment; filename="audit-${tenantId}-${stamp}.${ext}"`,
        "cache-control": "no-store",
        "x-request-id": meta.requestId,
      },
    });
  } catch (err) {
    if (isAppError(err)) return errorResponse(err, meta.requestId);
    throw err;
  }
}
