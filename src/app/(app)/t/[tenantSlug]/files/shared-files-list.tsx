"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";

import { valueLabel } from "~/components/shared-files/labels";
import { tenantHref, useTenant } from "~/components/tenant/tenant-context";
import { Button, LinkButton } from "~/components/ui/button";
import { ErrorAlert } from "~/components/ui/errors";
import { formatBytes, formatRelative } from "~/components/ui/format";
import { Badge, Card, EmptyState, PageHeader, Skeleton, Table, Td } from "~/components/ui/layout";
import { useTRPC } from "~/trpc/react";

export function SharedFilesList() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const list = useInfiniteQuery(
    trpc.sharedFile.list.infiniteQueryOptions(
      { tenantId: tenant.id, limit: 50 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const files = list.data?.pages.flatMap((p) => p.items) ?? [];
  const canCreate = tenant.can("file:create");

  return (
    <>
      <PageHeader
        title="Shared files"
        description="Named, typed, memory-mappable regions. Processes on one host share them through memory; across hosts the platform bridges them through Redis Streams."
        actions={canCreate ? <LinkButton href={tenantHref(tenant, "files/new")}>New shared file</LinkButton> : null}
      />
      <Card>
        {list.isPending ? (
          <Skeleton rows={4} label="Loading shared files" />
        ) : list.error ? (
          <ErrorAlert error={list.error} />
        ) : files.length === 0 ? (
          <EmptyState
            title="No shared files yet"
            description="Declare a shared file, then open it by name from the client library on any node."
            action={canCreate ? <LinkButton href={tenantHref(tenant, "files/new")}>New shared file</LinkButton> : undefined}
          />
        ) : (
          <>
            <Table caption="Shared files" head={["Name", "Kind", "Pattern", "Transport", "Max size", "Status", "Updated"]}>
              {files.map((f) => (
                <tr key={f.id}>
                  <Td>
                    <Link
                      href={tenantHref(tenant, `files/${encodeURIComponent(f.name)}`)}
                      className="font-mono font-medium text-indigo-700 hover:underline dark:text-indigo-300"
                    >
                      {f.name}
                    </Link>
                    {f.description ? (
                      <p className="mt-0.5 max-w-sm truncate text-xs text-slate-500 dark:text-slate-400">{f.description}</p>
                    ) : null}
                  </Td>
                  <Td>
                    <Badge tone={f.kind === "stream" ? "indigo" : "gray"}>{valueLabel(f.kind)}</Badge>
                  </Td>
                  <Td className="whitespace-nowrap">{valueLabel(f.pattern)}</Td>
                  <Td className="whitespace-nowrap">{valueLabel(f.transportPreference)}</Td>
                  <Td className="whitespace-nowrap tabular-nums">{formatBytes(f.maxSizeBytes)}</Td>
                  <Td>
                    <Badge tone={f.status === "active" ? "green" : f.status === "expired" ? "yellow" : "gray"}>{valueLabel(f.status)}</Badge>
                  </Td>
                  <Td className="whitespace-nowrap text-slate-600 dark:text-slate-400">{formatRelative(f.updatedAt)}</Td>
                </tr>
              ))}
            </Table>
            {list.hasNextPage ? (
              <div className="mt-4 flex justify-center">
                <Button variant="secondary" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
                  Load more
                </Button>
              </div>
            ) : null}
          </>
        )}
      </Card>
    </>
  );
}
