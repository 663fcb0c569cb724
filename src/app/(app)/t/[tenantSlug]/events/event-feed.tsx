"use client";

import { useEffect, useRef, useState } from "react";

import { useTenant } from "~/components/tenant/tenant-context";
import { Badge, type BadgeTone } from "~/components/ui/layout";
import { formatDateTime } from "~/components/ui/format";
import type { TFeedEvent } from "~/server/contracts/routing";

const MAX_EVENTS = 100;

function toneOf(e: TFeedEvent): BadgeTone {
  if (e.outcome === "DENIED" || e.outcome === "FAILURE" || e.action.endsWith("failed")) return "red";
  if (e.action.startsWith("transport.")) return "indigo";
  if (e.action.endsWith("created") || e.action.endsWith("opened") || e.action.endsWith("selected")) return "green";
  return "gray";
}

/** One line of detail: the decision's reason, the file's name, the node, … whatever the event has. */
function summaryOf(e: TFeedEvent): string {
  const after = (e.after ?? {}) as Record<string, unknown>;
  const before = (e.before ?? {}) as Record<string, unknown>;
  if (e.action.startsWith("transport.")) {
    const from = before.transport ? `${String(before.transport)} → ` : "";
    return `${String(after.nodeName ?? "")}: ${from}${String(after.transport ?? "refused")} — ${String(after.reason ?? "")}`;
  }
  if (typeof after.name === "string") return after.name;
  if (typeof before.name === "string") return before.name;
  if (typeof after.slot === "string") return `slot ${after.slot}`;
  if (typeof after.reason === "string") return after.reason;
  return e.targetId ?? "";
}

const RECONNECT_MS = 3_000;

/** Parses complete SSE blocks off `buffer`; returns the rest. */
function takeBlocks(buffer: string, onBlock: (b: { id?: string; event?: string; data?: string }) => void): string {
  let i: number;
  while ((i = buffer.indexOf("\n\n")) >= 0) {
    const block = buffer.slice(0, i);
    buffer = buffer.slice(i + 2);
    const b: { id?: string; event?: string; data?: string } = {};
    for (const line of block.split("\n")) {
      const m = /^(id|event|data): ?(.*)$/.exec(line);
      if (m) b[m[1] as "id" | "event" | "data"] = m[2];
    }
    if (b.event || b.data) onBlock(b);
  }
  return buffer;
}

/**
 * The tenant's live event feed (server-sent events from /api/v1/events), read with fetch so the
 * request can carry the tenant header. Reconnects after a dropped connection and resumes after
 * the last event it saw (Last-Event-ID); stops when the server ends the feed (access lost).
 * `targetId` narrows the list to one shared file's events.
 */
export function EventFeed({ targetId, backlog = 20, title = "Live events" }: { targetId?: string; backlog?: number; title?: string }) {
  const tenant = useTenant();
  const [events, setEvents] = useState<TFeedEvent[]>([]);
  const [state, setState] = useState<"connecting" | "live" | "reconnecting" | "ended">("connecting");
  const seen = useRef(new Set<number>());

  useEffect(() => {
    const abort = new AbortController();
    let lastId: string | null = null;
    const onEvent = (data: string) => {
      let e: TFeedEvent;
      try {
        e = JSON.parse(data) as TFeedEvent;
      } catch {
        return;
      }
      if (seen.current.has(e.seq)) return;
      seen.current.add(e.seq);
      if (targetId && e.targetId !== targetId) return;
      setEvents((list) => [e, ...list].slice(0, MAX_EVENTS));
    };
    const run = async () => {
      while (!abort.signal.aborted) {
        try {
          const headers: Record<string, string> = { accept: "text/event-stream", "x-commy-tenant": tenant.id };
          if (lastId) headers["last-event-id"] = lastId;
          const res = await fetch(`/api/v1/events?backlog=${lastId ? 0 : backlog}`, { headers, signal: abort.signal, cache: "no-store" });
          if (res.status === 401 || res.status === 403 || res.status === 404) {
            setState("ended");
            return;
          }
          if (!res.ok || !res.body) throw new Error(`event feed: HTTP ${res.status}`);
          setState("live");
          const reader = res.body.getReader();
          const decoder = new TextDecoder();
          let buffer = "";
          let ended = false;
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer = takeBlocks(buffer + decoder.decode(value, { stream: true }), (b) => {
              if (b.event === "end") ended = true;
              else if (b.data) {
                if (b.id) lastId = b.id;
                onEvent(b.data);
              }
            });
            if (ended) {
              setState("ended");
              await reader.cancel().catch(() => undefined);
              return;
            }
          }
        } catch {
          if (abort.signal.aborted) return;
        }
        setState("reconnecting");
        await new Promise((r) => setTimeout(r, RECONNECT_MS));
      }
    };
    void run();
    return () => abort.abort();
  }, [tenant.id, targetId, backlog]);

  return (
    <section aria-label={title} className="space-y-2">
      <div className="flex items-center justify-between">
        <h3 className="text-sm font-semibold">{title}</h3>
        <span className="text-xs text-slate-500 dark:text-slate-400" data-testid="event-feed-state">
          {state === "live" ? "● live" : state}
        </span>
      </div>
      {events.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">No events yet. New ones appear here as they happen.</p>
      ) : (
        <ol className="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="event-feed">
          {events.map((e) => (
            <li key={e.seq} className="flex flex-wrap items-baseline gap-2 py-1.5">
              <span className="w-40 shrink-0 text-xs text-slate-500 tabular-nums dark:text-slate-400">{formatDateTime(e.occurredAt)}</span>
              <Badge tone={toneOf(e)}>{e.action}</Badge>
              <span className="min-w-0 flex-1 truncate" title={summaryOf(e)}>
                {summaryOf(e)}
              </span>
              <span className="text-xs text-slate-500 dark:text-slate-400">{e.actorLabel}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
