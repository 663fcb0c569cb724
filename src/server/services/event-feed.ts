/**
 * The tenant event feed: the audit events an operator wants to watch live (files, attachments,
 * transport decisions, data written through the API, authentication and authorization failures),
 * served as server-sent events.
 *
 * Source of truth is the audit log, so every replica serves the same feed and a client resumes
 * exactly where it stopped: the SSE `id` is the event's seq in the tenant's audit chain, and
 * `Last-Event-ID` (sent by EventSource on reconnect) continues after it. New events are found by
 * polling the chain's unique (chainId, seq) index once a second: one indexed query per open feed.
 *
 * Access is checked again every few seconds: a revoked key, an expired key, a removed member or
 * a lost permission ends the stream with `event: end` and the error code.
 */
import { z } from "zod";
import type { Prisma } from "~/generated/prisma";
import type { RequestMeta, TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { FEED_ACTIONS, type TFeedEvent } from "~/server/contracts/routing";
import { auditEventSelect, type AuditEventView } from "~/server/audit/query";
import { db } from "~/server/db";
import { isAppError } from "~/server/errors";
import { logger } from "~/server/logger";

export { FEED_ACTIONS } from "~/server/contracts/routing";

export const ZEventFeedQuery = z.object({
  lastEventId: z.coerce.number().int().min(0).optional().meta({ description: "Resume after this seq (same as the Last-Event-ID header)." }),
  backlog: z.coerce.number().int().min(0).max(100).default(0).meta({ description: "Start with the N latest events (0–100, default 0) when not resuming." }),
  follow: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true")
    .meta({ description: "`false`: send the events there are and close." }),
});
export type TEventFeedQuery = z.output<typeof ZEventFeedQuery>;

export interface FeedTimings {
  pollMs: number;
  heartbeatMs: number;
  recheckMs: number;
}

const DEFAULT_TIMINGS: FeedTimings = { pollMs: 1000, heartbeatMs: 15_000, recheckMs: 5000 };

export type FeedEvent = TFeedEvent;

function feedWhere(tenantId: string): Prisma.AuditEventWhereInput {
  return { chainId: tenantId, tenantId, OR: [{ action: { in: [...FEED_ACTIONS] } }, { outcome: "DENIED" }] };
}

function toFeedEvent(e: AuditEventView): FeedEvent {
  return {
    seq: e.seq,
    action: e.action,
    occurredAt: e.occurredAt.toISOString(),
    outcome: e.outcome,
    actorType: e.actorType,
    actorLabel: e.actorLabel,
    targetType: e.targetType,
    targetId: e.targetId,
    before: e.before,
    after: e.after,
  };
}

/** Events after `afterSeq`, oldest first. */
export async function feedEventsAfter(ctx: TenantContext, afterSeq: number, limit = 200): Promise<FeedEvent[]> {
  authorize(ctx, "audit:read");
  const rows = await db.auditEvent.findMany({ where: { ...feedWhere(ctx.tenantId), seq: { gt: afterSeq } }, orderBy: { seq: "asc" }, take: limit, select: auditEventSelect });
  return rows.map(toFeedEvent);
}

/** The latest `n` events, oldest first. */
export async function latestFeedEvents(ctx: TenantContext, n: number): Promise<FeedEvent[]> {
  authorize(ctx, "audit:read");
  if (n <= 0) return [];
  const rows = await db.auditEvent.findMany({ where: feedWhere(ctx.tenantId), orderBy: { seq: "desc" }, take: n, select: auditEventSelect });
  return rows.reverse().map(toFeedEvent);
}

async function headSeq(tenantId: string): Promise<number> {
  const head = await db.auditChainHead.findUnique({ where: { chainId: tenantId }, select: { seq: true } });
  return head?.seq ?? 0;
}

function sse(e: FeedEvent): string {
  return `id: ${e.seq}\nevent: ${e.action}\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * The SSE response. `recheck` re-verifies the caller's access (it throws when access is gone).
 */
export async function eventFeedResponse(
  ctx: TenantContext,
  query: TEventFeedQuery,
  req: Request,
  meta: RequestMeta,
  recheck?: () => Promise<void>,
  timings: FeedTimings = DEFAULT_TIMINGS,
): Promise<Response> {
  authorize(ctx, "audit:read");
  const header = req.headers.get("last-event-id");
  const resumeFrom = header !== null && /^\d+$/.test(header.trim()) ? Number(header.trim()) : query.lastEventId;
  const encoder = new TextEncoder();
  let cursor: number;
  let initial: FeedEvent[];
  if (resumeFrom !== undefined) {
    initial = await feedEventsAfter(ctx, resumeFrom);
    cursor = initial.length ? initial[initial.length - 1]!.seq : resumeFrom;
  } else {
    const head = await headSeq(ctx.tenantId);
    initial = await latestFeedEvents(ctx, query.backlog);
    cursor = Math.max(head, initial.length ? initial[initial.length - 1]!.seq : 0);
  }

  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  const stop = () => {
    closed = true;
    for (const t of timers) clearInterval(t);
  };

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop();
        }
      };
      const end = (code: string, message: string) => {
        if (closed) return;
        send(`event: end\ndata: ${JSON.stringify({ code, message })}\n\n`);
        stop();
        try {
          controller.close();
        } catch {
          /* already closed */
        }
      };
      send(`retry: 3000\n: commy event feed for tenant ${ctx.tenantId}, request ${meta.requestId}\n\n`);
      for (const e of initial) send(sse(e));
      if (!query.follow) {
        stop();
        controller.close();
        return;
      }
      let polling = false;
      timers.push(
        setInterval(() => {
          if (polling || closed) return;
          polling = true;
          feedEventsAfter(ctx, cursor)
            .then((events) => {
              for (const e of events) {
                send(sse(e));
                cursor = e.seq;
              }
            })
            .catch((err: unknown) => logger.warn({ err, requestId: meta.requestId }, "event feed poll failed"))
            .finally(() => (polling = false));
        }, timings.pollMs),
      );
      timers.push(setInterval(() => send(`: heartbeat ${new Date().toISOString()}\n\n`), timings.heartbeatMs));
      if (recheck) {
        timers.push(
          setInterval(() => {
            if (closed) return;
            recheck().catch((err: unknown) => {
              if (isAppError(err) && err.code !== "INTERNAL") end(err.code, err.userMessage);
              else logger.warn({ err, requestId: meta.requestId }, "event feed access check failed");
            });
          }, timings.recheckMs),
        );
      }
      req.signal?.addEventListener("abort", () => stop(), { once: true });
    },
    cancel() {
      stop();
    },
  });
  return new Response(stream, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    },
  });
}
