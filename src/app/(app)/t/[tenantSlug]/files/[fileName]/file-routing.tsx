"use client";

import { useQuery } from "@tanstack/react-query";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { useTenant } from "~/components/tenant/tenant-context";
import { errorCodeOf, ErrorAlert } from "~/components/ui/errors";
import { formatDateTime, formatRelative } from "~/components/ui/format";
import { Alert, Badge, type BadgeTone, Card, Skeleton, Table, Td } from "~/components/ui/layout";
import type { TFileRoute, TRouteSample } from "~/server/contracts/routing";
import { useTRPC } from "~/trpc/react";
import { EventFeed } from "../../events/event-feed";

const REFRESH_MS = 2_000;
const CHART_WINDOW_MS = 5 * 60 * 1000;
const BUCKET_MS = 2_000;

const TRANSPORT_LABEL: Record<string, string> = { SHARED_MEMORY: "Shared memory", NETWORK: "Network (Redis)", HYBRID: "Hybrid" };
const TRANSPORT_TONE: Record<string, BadgeTone> = { SHARED_MEMORY: "green", NETWORK: "indigo", HYBRID: "yellow" };

function fmt(n: number | null | undefined, unit = ""): string {
  if (n === null || n === undefined) return "—";
  return `${n >= 100 ? Math.round(n).toLocaleString() : n.toFixed(1)}${unit}`;
}

interface Point {
  t: number;
  shmRate: number;
  netRate: number;
  shmP50: number | null;
  netP50: number | null;
}

/** Samples of every node → one point per 2 s bucket: rates summed over nodes, worst p50. */
function chartPoints(samples: TRouteSample[]): Point[] {
  const buckets = new Map<number, Point>();
  for (const s of samples) {
    const t = Math.floor(new Date(s.at).getTime() / BUCKET_MS) * BUCKET_MS;
    const p = buckets.get(t) ?? { t, shmRate: 0, netRate: 0, shmP50: null, netP50: null };
    p.shmRate += s.stats.sharedMemory.messagesPerSec;
    p.netRate += s.stats.network.messagesPerSec;
    const sp = s.stats.sharedMemory.latencyP50Us;
    const np = s.stats.network.latencyP50Us;
    if (sp !== null) p.shmP50 = Math.max(p.shmP50 ?? 0, sp);
    if (np !== null) p.netP50 = Math.max(p.netP50 ?? 0, np);
    buckets.set(t, p);
  }
  return [...buckets.values()].sort((a, b) => a.t - b.t);
}

const timeTick = (t: number) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

function Chart({ title, points, keys, unit }: { title: string; points: Point[]; keys: { key: keyof Point; name: string; color: string }[]; unit: string }) {
  return (
    <figure className="min-w-0">
      <figcaption className="mb-1 text-sm font-semibold">{title}</figcaption>
      {points.length === 0 ? (
        <p className="flex h-48 items-center justify-center rounded bg-slate-50 text-sm text-slate-500 dark:bg-slate-950/40 dark:text-slate-400">No samples in the last 5 minutes.</p>
      ) : (
        <div className="h-48">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={points} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#cbd5e1" strokeOpacity={0.5} />
              <XAxis dataKey="t" type="number" domain={["dataMin", "dataMax"]} tickFormatter={timeTick} fontSize={11} />
              <YAxis fontSize={11} width={56} unit={unit} />
              <Tooltip labelFormatter={(t) => timeTick(Number(t))} formatter={(v) => fmt(Number(v), unit)} />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {keys.map((k) => (
                <Line key={k.key} type="monotone" dataKey={k.key} name={k.name} stroke={k.color} dot={false} isAnimationActive={false} connectNulls />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}

function Peers({ r }: { r: TFileRoute }) {
  const groups: [string, string[]][] = [
    ["same host", r.colocatedPeers],
    ["remote", r.remotePeers],
    ["degraded", r.degradedPeers],
  ];
  const shown = groups.filter(([, list]) => list.length > 0);
  if (shown.length === 0) return <span className="text-slate-500">none</span>;
  return (
    <ul className="space-y-0.5 text-xs">
      {shown.map(([label, list]) => (
        <li key={label}>
          <span className="text-slate-500 dark:text-slate-400">{label}:</span> <span className="font-mono">{list.join(", ")}</span>
        </li>
      ))}
    </ul>
  );
}

function DecisionRow({ r }: { r: TFileRoute }) {
  return (
    <tr>
      <Td className="font-medium">{r.nodeName}</Td>
      <Td>
        {r.transport ? <Badge tone={TRANSPORT_TONE[r.transport]}>{TRANSPORT_LABEL[r.transport]}</Badge> : <Badge tone="red">Refused</Badge>}
        {r.status !== "ok" ? (
          <div className="mt-1">
            <Badge tone={r.status === "refused" ? "red" : "yellow"}>{r.status}</Badge>
          </div>
        ) : null}
      </Td>
      <Td className="max-w-md">
        <p>{r.reason}</p>
        <p className="font-mono text-xs text-slate-500 dark:text-slate-400">{r.reasonCode}</p>
        {r.warnings.map((w) => (
          <p key={w} className="text-xs text-amber-700 dark:text-amber-400">
            ⚠ {w}
          </p>
        ))}
        <details className="mt-1 text-xs">
          <summary className="cursor-pointer text-indigo-600 dark:text-indigo-400">Inputs of the decision</summary>
          <pre className="mt-1 max-h-64 overflow-auto rounded bg-slate-50 p-2 dark:bg-slate-950/60">{JSON.stringify(r.inputs, null, 2)}</pre>
        </details>
      </Td>
      <Td>
        <Peers r={r} />
      </Td>
      <Td className="tabular-nums text-xs whitespace-nowrap">
        <div>shm {fmt(r.stats?.sharedMemory.messagesPerSec)} msg/s</div>
        <div>net {fmt(r.stats?.network.messagesPerSec)} msg/s</div>
        <div>net p50 {fmt(r.stats?.network.latencyP50Us, " µs")}</div>
      </Td>
      <Td className="tabular-nums text-xs whitespace-nowrap">
        <div>lag {fmt(r.stats?.streamLagMs, " ms")}</div>
        <div>pending {r.stats?.pendingFrames ?? "—"}</div>
        <div>backlog {r.stats?.backlog ?? "—"}</div>
        <div>dead letters {r.stats?.deadLetters ?? "—"}</div>
      </Td>
      <Td className="whitespace-nowrap text-xs text-slate-600 dark:text-slate-400">
        <span title={formatDateTime(r.decidedAt)}>{formatRelative(r.decidedAt)}</span>
        <div title={formatDateTime(r.reportedAt)}>reported {formatRelative(r.reportedAt)}</div>
      </Td>
    </tr>
  );
}

function DeadLetters({ name }: { name: string }) {
  const tenant = useTenant();
  const trpc = useTRPC();
  const q = useQuery(trpc.routing.deadLetters.queryOptions({ tenantId: tenant.id, name, limit: 20 }, { refetchInterval: 5_000, retry: false }));
  if (q.isPending) return <Skeleton rows={2} label="Loading dead letters" />;
  if (q.error) {
    return errorCodeOf(q.error) === "ROUTING_UNAVAILABLE" ? (
      <p className="text-sm text-slate-500 dark:text-slate-400">Redis is not configured on this control plane: no cross-node routing, no dead letters.</p>
    ) : (
      <ErrorAlert error={q.error} />
    );
  }
  const d = q.data;
  return (
    <div className="space-y-2">
      <p className="text-sm text-slate-600 dark:text-slate-400">
        {d.total.toLocaleString()} dead letter{d.total === 1 ? "" : "s"} · {d.streamLength.toLocaleString()} frames retained in the stream
      </p>
      {d.items.length ? (
        <Table caption={`Dead letters of ${name}`} head={["When", "Source entry", "Node", "Attempts", "Error"]}>
          {d.items.map((x) => (
            <tr key={x.id}>
              <Td className="whitespace-nowrap text-xs">{x.at ? formatDateTime(x.at) : x.id}</Td>
              <Td className="font-mono text-xs">{x.sourceId ?? "—"}</Td>
              <Td className="font-mono text-xs">{x.node ?? "—"}</Td>
              <Td className="tabular-nums">{x.attempts ?? "—"}</Td>
              <Td className="text-xs">{x.error ?? "—"}</Td>
            </tr>
          ))}
        </Table>
      ) : null}
    </div>
  );
}

/**
 * The file's cross-node dashboard: each node's current transport decision and why, live
 * throughput and latency by transport, stream lag, dead letters and the file's live events.
 */
export function FileRouting({ name, fileId }: { name: string; fileId: string }) {
  const tenant = useTenant();
  const trpc = useTRPC();
  const routes = useQuery(trpc.routing.fileRoutes.queryOptions({ tenantId: tenant.id, name }, { refetchInterval: REFRESH_MS }));
  const history = useQuery(trpc.routing.fileHistory.queryOptions({ tenantId: tenant.id, name, sinceMs: CHART_WINDOW_MS }, { refetchInterval: REFRESH_MS }));
  const points = chartPoints(history.data ?? []);
  const list = routes.data?.routes ?? [];
  const usesNetwork = list.some((r) => r.transport === "NETWORK" || r.transport === "HYBRID");

  return (
    <>
      <Card
        className="mt-6"
        title="Transport decisions"
        description="Each node's current decision for this file, why, and what it was decided from. Refreshes every 2 seconds."
      >
        {routes.isPending ? (
          <Skeleton rows={2} label="Loading transport decisions" />
        ) : routes.error ? (
          <ErrorAlert error={routes.error} />
        ) : list.length === 0 ? (
          <p className="text-sm text-slate-500 dark:text-slate-400">No node has reported a transport decision for this file yet (no worker has it attached).</p>
        ) : (
          <>
            {usesNetwork ? (
              <Alert tone="info" title="Why does this file use the network?">
                {list
                  .filter((r) => r.transport === "NETWORK" || r.transport === "HYBRID")
                  .map((r) => `${r.nodeName}: ${r.reason}`)
                  .join(" · ")}
              </Alert>
            ) : null}
            <div className={usesNetwork ? "mt-4" : undefined}>
              <Table caption={`Transport decisions for ${name}`} head={["Node", "Transport", "Reason", "Peers", "Rates", "Stream", "Decided"]}>
                {list.map((r) => (
                  <DecisionRow key={r.nodeId} r={r} />
                ))}
              </Table>
            </div>
          </>
        )}
      </Card>
      <Card className="mt-6" title="Throughput and latency by transport" description="All nodes, last 5 minutes, live.">
        {history.error ? (
          <ErrorAlert error={history.error} />
        ) : (
          <div className="grid gap-6 lg:grid-cols-2">
            <Chart
              title="Messages per second"
              points={points}
              unit=""
              keys={[
                { key: "shmRate", name: "Shared memory", color: "#16a34a" },
                { key: "netRate", name: "Network", color: "#4f46e5" },
              ]}
            />
            <Chart
              title="Latency p50 (µs)"
              points={points}
              unit=" µs"
              keys={[
                { key: "shmP50", name: "Shared memory", color: "#16a34a" },
                { key: "netP50", name: "Network", color: "#4f46e5" },
              ]}
            />
          </div>
        )}
      </Card>
      <div className="mt-6 grid gap-6 xl:grid-cols-2">
        {tenant.can("file:data:read") ? (
          <Card title="Dead letters" description="Records that failed to apply on a node after retries (the file's dead-letter stream).">
            <DeadLetters name={name} />
          </Card>
        ) : null}
        {tenant.can("audit:read") ? (
          <Card title="Events of this file">
            <EventFeed targetId={fileId} backlog={50} title="Live events" />
          </Card>
        ) : null}
      </div>
    </>
  );
}
