"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";

import { nodeHealth } from "~/components/tenant/node-health";
import { ROLE_LABELS, tenantHref, useTenant } from "~/components/tenant/tenant-context";
import { ErrorAlert } from "~/components/ui/errors";
import { formatRelative } from "~/components/ui/format";
import { Card, PageHeader, Skeleton } from "~/components/ui/layout";
import { useTRPC } from "~/trpc/react";

function Stat({ label, value, detail, href }: { label: string; value: React.ReactNode; detail?: string; href: string }) {
  return (
    <Link
      href={href}
      className="block rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200 transition hover:ring-indigo-300 dark:bg-slate-900 dark:ring-slate-800 dark:hover:ring-indigo-700"
    >
      <p className="text-sm font-medium text-slate-600 dark:text-slate-400">{label}</p>
      <p className="mt-1 text-3xl font-semibold tracking-tight tabular-nums">{value}</p>
      {detail ? <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">{detail}</p> : null}
    </Link>
  );
}

function count<T>(q: { data?: T; isPending: boolean; error: unknown }, n: (d: T) => number | string): React.ReactNode {
  if (q.isPending) return <span className="inline-block h-8 w-10 animate-pulse rounded bg-slate-200 dark:bg-slate-800" aria-label="Loading" />;
  if (q.error || q.data === undefined) return "—";
  return n(q.data);
}

export function OverviewView() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const input = { tenantId: tenant.id };
  const members = useQuery(trpc.member.list.queryOptions(input));
  const keys = useQuery(trpc.apiKey.list.queryOptions({ ...input, limit: 100 }));
  const files = useQuery(trpc.sharedFile.list.queryOptions({ ...input, limit: 100 }));
  const nodes = useQuery(trpc.node.list.queryOptions(input));
  const audit = useQuery(trpc.audit.list.queryOptions({ ...input, limit: 10 }));

  const activeKeys = keys.data?.items.filter((k) => k.status === "active");
  const healthy = nodes.data?.items.filter((n) => nodeHealth(n) === "healthy").length ?? 0;

  return (
    <>
      <PageHeader title={tenant.name} description={`Overview · your role: ${ROLE_LABELS[tenant.role]}`} />
      <section aria-labelledby="counts-heading">
        <h2 id="counts-heading" className="sr-only">
          Counts
        </h2>
        <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
          <Stat label="Members" value={count(members, (d) => d.length)} href={tenantHref(tenant, "members")} />
          <Stat
            label="API keys"
            value={count(keys, () => activeKeys?.length ?? 0)}
            detail={keys.data ? `${keys.data.items.length - (activeKeys?.length ?? 0)} revoked or expired` : undefined}
            href={tenantHref(tenant, "api-keys")}
          />
          <Stat
            label="Shared files"
            value={count(files, (d) => (d.nextCursor ? `${d.items.length}+` : d.items.length))}
            href={tenantHref(tenant, "files")}
          />
          <Stat
            label="Nodes"
            value={count(nodes, (d) => d.items.length)}
            detail={nodes.data ? `${healthy} healthy` : undefined}
            href={tenantHref(tenant, "nodes")}
          />
        </div>
      </section>
      <Card
        className="mt-6"
        title="Recent activity"
        actions={
          <Link href={tenantHref(tenant, "audit")} className="text-sm font-medium text-indigo-700 hover:underline dark:text-indigo-300">
            Audit log →
          </Link>
        }
      >
        {audit.isPending ? (
          <Skeleton rows={4} label="Loading recent activity" />
        ) : audit.error ? (
          <ErrorAlert error={audit.error} />
        ) : audit.data.items.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">Nothing yet.</p>
        ) : (
          <ul className="divide-y divide-slate-100 dark:divide-slate-800">
            {audit.data.items.map((e) => (
              <li key={e.id} className="flex flex-wrap items-baseline justify-between gap-2 py-2.5 text-sm">
                <span>
                  <span className="font-medium">{e.actorLabel ?? e.actorType.toLowerCase()}</span>{" "}
                  <span className="font-mono text-xs text-slate-600 dark:text-slate-300">{e.action}</span>
                  {e.targetType ? (
                    <span className="text-slate-500 dark:text-slate-400">
                      {" "}
                      · {e.targetType}
                    </span>
                  ) : null}
                  {e.outcome !== "SUCCESS" ? <span className="ml-1 text-xs text-red-600 dark:text-red-400">({e.outcome.toLowerCase()})</span> : null}
                </span>
                <time dateTime={new Date(e.occurredAt).toISOString()} className="text-xs text-slate-500 dark:text-slate-400">
                  {formatRelative(e.occurredAt)}
                </time>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
