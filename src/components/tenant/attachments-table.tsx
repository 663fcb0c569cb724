"use client";

import type { UseQueryResult } from "@tanstack/react-query";
import Link from "next/link";

import { tenantHref, useTenant } from "~/components/tenant/tenant-context";
import { ErrorAlert } from "~/components/ui/errors";
import { formatDateTime, formatRelative, humanize } from "~/components/ui/format";
import { Badge, Skeleton, Table, Td } from "~/components/ui/layout";
import type { RouterOutputs } from "~/trpc/react";

export type AttachmentItem = RouterOutputs["nodeAdmin"]["attachments"][number];

/**
 * Live attachments (process, side, transport, since) as workers report them. `show` picks the
 * column that is not implied by the page: the file on a node's view, the node on a file's view.
 */
export function AttachmentsTable({
  query,
  caption,
  show,
  empty,
}: {
  query: UseQueryResult<AttachmentItem[], unknown>;
  caption: string;
  show: "file" | "node";
  empty: string;
}) {
  const tenant = useTenant();
  if (query.isPending) return <Skeleton rows={2} label="Loading attachments" />;
  if (query.error) return <ErrorAlert error={query.error} />;
  const rows = query.data ?? [];
  if (rows.length === 0) return <p className="text-sm text-slate-600 dark:text-slate-400">{empty}</p>;
  return (
    <Table caption={caption} head={[show === "file" ? "File" : "Node", "Process", "Side", "Transport", "Since"]}>
      {rows.map((a) => (
        <tr key={a.id}>
          <Td className="font-mono text-xs">
            {show === "file" ? (
              <Link className="text-indigo-600 hover:underline dark:text-indigo-400" href={tenantHref(tenant, `files/${encodeURIComponent(a.sharedFile.name)}`)}>
                {a.sharedFile.name}
              </Link>
            ) : (
              a.node.name
            )}
          </Td>
          <Td className="font-mono text-xs tabular-nums">pid {a.pid}</Td>
          <Td>
            <Badge tone={a.side === "PRODUCER" ? "indigo" : "gray"}>{humanize(a.side)}</Badge>
          </Td>
          <Td className="text-xs">{humanize(a.transport)}</Td>
          <Td className="whitespace-nowrap text-slate-600 dark:text-slate-400">
            <span title={formatDateTime(a.since)}>{formatRelative(a.since)}</span>
          </Td>
        </tr>
      ))}
    </Table>
  );
}
