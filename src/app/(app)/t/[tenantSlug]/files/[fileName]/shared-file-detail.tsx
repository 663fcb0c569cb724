"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";

import { ENUM_HELP, valueLabel } from "~/components/shared-files/labels";
import { AttachmentsTable } from "~/components/tenant/attachments-table";
import { tenantHref, useTenant } from "~/components/tenant/tenant-context";
import { Button, LinkButton } from "~/components/ui/button";
import { errorCodeOf, ErrorAlert, messageOf } from "~/components/ui/errors";
import { formatBytes, formatDateTime, formatSeconds } from "~/components/ui/format";
import { ConfirmDialog } from "~/components/ui/interactive";
import { Badge, Card, DescriptionList, EmptyState, PageHeader, Skeleton } from "~/components/ui/layout";
import { requiredBytes } from "~/server/contracts/shared-file";
import { useTRPC } from "~/trpc/react";
import { FileRouting } from "./file-routing";

function Enum({ field, value }: { field: keyof typeof ENUM_HELP; value: string }) {
  const help = (ENUM_HELP[field] as Record<string, string>)[value];
  return (
    <div>
      <span className="font-medium">{valueLabel(value)}</span>
      {help ? <p className="text-xs text-slate-500 dark:text-slate-400">{help}</p> : null}
    </div>
  );
}

export function SharedFileDetail({ name }: { name: string }) {
  const tenant = useTenant();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const file = useQuery(trpc.sharedFile.get.queryOptions({ tenantId: tenant.id, name }));
  const [deleting, setDeleting] = useState(false);
  const del = useMutation(
    trpc.sharedFile.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.sharedFile.pathKey() });
        router.push(tenantHref(tenant, "files"));
      },
    }),
  );

  if (file.isPending) return <Skeleton rows={8} label="Loading shared file" />;
  if (file.error) {
    return (
      <>
        <PageHeader title={name} />
        {errorCodeOf(file.error) === "NOT_FOUND" ? (
          <EmptyState
            title="Shared file not found"
            description={`There is no shared file named “${name}” in this tenant.`}
            action={<LinkButton href={tenantHref(tenant, "files")}>All shared files</LinkButton>}
          />
        ) : (
          <ErrorAlert error={file.error} />
        )}
      </>
    );
  }
  const f = file.data;
  const need = requiredBytes(f.layout);
  return (
    <>
      <PageHeader
        title={<span className="font-mono">{f.name}</span>}
        description={f.description || undefined}
        actions={
          <>
            {tenant.can("file:update") ? (
              <LinkButton variant="secondary" href={tenantHref(tenant, `files/${encodeURIComponent(f.name)}/edit`)}>
                Edit
              </LinkButton>
            ) : null}
            {tenant.can("file:delete") ? (
              <Button variant="danger" onClick={() => setDeleting(true)}>
                Delete
              </Button>
            ) : null}
          </>
        }
      />
      <div className="mb-6 flex flex-wrap items-center gap-2 text-sm text-slate-600 dark:text-slate-400">
        <Badge tone={f.status === "active" ? "green" : f.status === "expired" ? "yellow" : "gray"}>{valueLabel(f.status)}</Badge>
        <Badge tone={f.kind === "stream" ? "indigo" : "gray"}>{valueLabel(f.kind)}</Badge>
        <span>Revision {f.revision}</span>
        <span aria-hidden>·</span>
        <span>Updated {formatDateTime(f.updatedAt)}</span>
      </div>
      <div className="grid gap-6 xl:grid-cols-2">
        <Card title="Communication">
          <DescriptionList
            items={[
              { term: "Kind", value: <Enum field="kind" value={f.kind} /> },
              { term: "Pattern", value: <Enum field="pattern" value={f.pattern} /> },
              { term: "Topology", value: <Enum field="topology" value={f.topology} /> },
              { term: "Directionality", value: <Enum field="directionality" value={f.directionality} /> },
              { term: "Serialization", value: <Enum field="serialization" value={f.serialization} /> },
            ]}
          />
        </Card>
        <Card title="Layout">
          {f.layout.type === "variables" ? (
            <>
              <h3 className="sr-only">Slots</h3>
              <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800">
                {f.layout.slots.map((s) => (
                  <li key={s.name} className="flex justify-between py-2">
                    <span className="font-mono">{s.name}</span>
                    <span className="tabular-nums text-slate-600 dark:text-slate-400">up to {formatBytes(s.maxSize)}</span>
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <DescriptionList
              items={[
                { term: "Max message size", value: formatBytes(f.layout.messageMaxSize) },
                { term: "Capacity", value: `${f.layout.capacity.toLocaleString()} messages` },
                {
                  term: "Overflow",
                  value: f.layout.overflow === "overwrite" ? "Overwrite the oldest message" : "Refuse new messages (back-pressure)",
                },
                { term: "Max consumers", value: f.layout.maxConsumers },
              ]}
            />
          )}
          <p className="mt-3 text-xs text-slate-500 dark:text-slate-400">
            The layout needs {formatBytes(need)} of the {formatBytes(f.maxSizeBytes)} allowed.
          </p>
        </Card>
        <Card title="Size, lifetime and cleanup">
          <DescriptionList
            items={[
              { term: "Max size", value: `${formatBytes(f.maxSizeBytes)} (${f.maxSizeBytes.toLocaleString()} bytes)` },
              { term: "TTL", value: f.ttlSeconds === null ? "Never expires" : formatSeconds(f.ttlSeconds) },
              { term: "Max connections", value: f.maxConnections ?? "No limit" },
              { term: "Creation policy", value: <Enum field="creationPolicy" value={f.creationPolicy} /> },
              { term: "Existence policy", value: <Enum field="existencePolicy" value={f.existencePolicy} /> },
              { term: "Auto-cleanup", value: f.autoCleanup ? "Yes: the node's file is deleted when the last client detaches" : "No" },
              { term: "Persist after disconnect", value: f.persistAfterDisconnect ? "Yes: data is kept after every client detached" : "No" },
            ]}
          />
        </Card>
        <Card title="Access, transport and performance">
          <DescriptionList
            items={[
              {
                term: "Required permissions",
                value: f.requiredPermissions.length ? (
                  <div className="flex flex-wrap gap-1">
                    {f.requiredPermissions.map((p) => (
                      <Badge key={p}>{p}</Badge>
                    ))}
                  </div>
                ) : (
                  "data:read / data:write suffice"
                ),
              },
              { term: "Transport preference", value: <Enum field="transportPreference" value={f.transportPreference} /> },
              {
                term: "Max latency",
                value: f.performance.maxLatencyMicros === null ? "No requirement" : `${f.performance.maxLatencyMicros.toLocaleString()} µs`,
              },
              {
                term: "Min throughput",
                value:
                  f.performance.minThroughputMsgPerSec === null
                    ? "No requirement"
                    : `${f.performance.minThroughputMsgPerSec.toLocaleString()} messages/s`,
              },
              { term: "Consistency", value: <Enum field="consistency" value={f.performance.consistency} /> },
              { term: "Durability", value: <Enum field="durability" value={f.performance.durability} /> },
            ]}
          />
        </Card>
      </div>
      <FileRouting name={f.name} fileId={f.id} />
      {tenant.can("node:read") ? <FileAttachments fileId={f.id} fileName={f.name} /> : null}
      <ConfirmDialog
        open={deleting}
        title={`Delete “${f.name}”?`}
        confirmLabel="Delete shared file"
        confirmText={f.name}
        pending={del.isPending}
        error={del.error ? messageOf(del.error) : undefined}
        onClose={() => {
          setDeleting(false);
          del.reset();
        }}
        onConfirm={() => del.mutate({ tenantId: tenant.id, name: f.name, revision: f.revision })}
      >
        Workers stop offering it and attached clients are detached. Its data on the nodes is removed.
      </ConfirmDialog>
    </>
  );
}

/** Processes attached to this file right now, on every node; refreshed every 3 seconds. */
function FileAttachments({ fileId, fileName }: { fileId: string; fileName: string }) {
  const tenant = useTenant();
  const trpc = useTRPC();
  const q = useQuery(trpc.nodeAdmin.attachments.queryOptions({ tenantId: tenant.id, sharedFileId: fileId }, { refetchInterval: 3_000 }));
  return (
    <Card
      className="mt-6"
      title="Live attachments"
      description="Processes attached to this file right now, as their workers report them. Refreshes every 3 seconds."
    >
      <AttachmentsTable
        query={q}
        caption={`Live attachments of ${fileName}`}
        show="node"
        empty="No process is attached to this file right now."
      />
    </Card>
  );
}
