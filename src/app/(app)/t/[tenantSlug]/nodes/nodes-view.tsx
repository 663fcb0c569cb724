"use client";

import { useQuery } from "@tanstack/react-query";

import { NodeHealthBadge, nodeHealth } from "~/components/tenant/node-health";
import { useTenant } from "~/components/tenant/tenant-context";
import { Button } from "~/components/ui/button";
import { ErrorAlert } from "~/components/ui/errors";
import { formatRelative } from "~/components/ui/format";
import { Card, EmptyState, PageHeader, Skeleton, Table, Td } from "~/components/ui/layout";
import { useTRPC } from "~/trpc/react";

export function NodesView() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const list = useQuery(trpc.node.list.queryOptions({ tenantId: tenant.id }, { refetchInterval: 10_000 }));
  const nodes = list.data?.items ?? [];
  // Join tokens arrive with the worker (step 3); until then the button explains itself.
  const addNode = tenant.can("node:manage") ? (
    <div className="flex flex-col items-end gap-1">
      <Button disabled aria-describedby="add-node-note">
        Add node
      </Button>
      <p id="add-node-note" className="text-xs text-slate-500 dark:text-slate-400">
        Arrives with the worker: join tokens are not available yet.
      </p>
    </div>
  ) : null;

  return (
    <>
      <PageHeader
        title="Nodes"
        description="Worker hosts that map shared files for local processes and bridge them across hosts. Health comes from heartbeat age."
        actions={addNode}
      />
      <Card>
        {list.isPending ? (
          <Skeleton rows={3} label="Loading nodes" />
        ) : list.error ? (
          <ErrorAlert error={list.error} />
        ) : nodes.length === 0 ? (
          <EmptyState
            title="No nodes yet"
            description="Nodes join with a one-time join token and the worker daemon. Once joined, they appear here with their health."
          />
        ) : (
          <Table caption="Nodes" head={["Name", "Health", "Host", "Version", "Labels", "Last heartbeat"]}>
            {nodes.map((n) => (
              <tr key={n.id}>
                <Td className="font-medium">{n.name}</Td>
                <Td>
                  <NodeHealthBadge health={nodeHealth(n)} />
                </Td>
                <Td className="font-mono text-xs">{n.hostname}</Td>
                <Td className="font-mono text-xs">{n.version}</Td>
                <Td className="text-xs">
                  {Object.entries((n.labels ?? {}) as Record<string, unknown>).map(([k, v]) => (
                    <span key={k} className="mr-1 inline-block rounded bg-slate-100 px-1.5 py-0.5 font-mono dark:bg-slate-800">
                      {k}={String(v)}
                    </span>
                  ))}
                </Td>
                <Td className="whitespace-nowrap text-slate-600 dark:text-slate-400">{formatRelative(n.lastHeartbeatAt)}</Td>
              </tr>
            ))}
          </Table>
        )}
      </Card>
    </>
  );
}
