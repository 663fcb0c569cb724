"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Fragment, useState } from "react";

import { NodeHealthBadge, nodeHealth } from "~/components/tenant/node-health";
import { useTenant } from "~/components/tenant/tenant-context";
import { Button } from "~/components/ui/button";
import { ErrorAlert, fieldErrorsOf, messageOf } from "~/components/ui/errors";
import { Field, Textarea } from "~/components/ui/field";
import { formatDateTime, formatRelative, humanize } from "~/components/ui/format";
import { ConfirmDialog, Dialog, SecretOnce } from "~/components/ui/interactive";
import { Badge, Card, EmptyState, PageHeader, Skeleton, Table, Td } from "~/components/ui/layout";
import { type RouterOutputs, useTRPC } from "~/trpc/react";
import { AttachmentsTable } from "~/components/tenant/attachments-table";
import { WorkerSettingsCard } from "./worker-settings";

type NodeItem = RouterOutputs["node"]["list"]["items"][number];

export function NodesView() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const [adding, setAdding] = useState(false);
  const list = useQuery(trpc.node.list.queryOptions({ tenantId: tenant.id }, { refetchInterval: 5_000 }));
  const attachments = useQuery(trpc.nodeAdmin.attachments.queryOptions({ tenantId: tenant.id }, { refetchInterval: 5_000 }));
  const nodes = list.data?.items ?? [];
  const counts = new Map<string, number>();
  for (const a of attachments.data ?? []) counts.set(a.nodeId, (counts.get(a.nodeId) ?? 0) + 1);
  const canManage = tenant.can("node:manage");

  return (
    <>
      <PageHeader
        title="Nodes"
        description="Worker hosts that map shared files for local processes and bridge them across hosts. Health comes from heartbeat age."
        actions={canManage ? <Button onClick={() => setAdding(true)}>Add node</Button> : null}
      />
      {canManage ? <AddNodeDialog open={adding} onClose={() => setAdding(false)} /> : null}
      <div className="space-y-6">
        <Card>
          {list.isPending ? (
            <Skeleton rows={3} label="Loading nodes" />
          ) : list.error ? (
            <ErrorAlert error={list.error} />
          ) : nodes.length === 0 ? (
            <EmptyState
              title="No nodes yet"
              description="Nodes join with a one-time join token and the worker daemon. Once joined, they appear here with their health."
              action={canManage ? <Button onClick={() => setAdding(true)}>Add node</Button> : undefined}
            />
          ) : (
            <Table
              caption="Nodes"
              head={["Name", "Health", "Status", "Host", "Version", "Labels", "Last heartbeat", "Attachments", <span key="a" className="sr-only">Actions</span>]}
            >
              {nodes.map((n) => (
                <NodeRow key={n.id} node={n} attachmentCount={counts.get(n.id) ?? 0} canManage={canManage} />
              ))}
            </Table>
          )}
        </Card>
        {tenant.can("settings:read") ? <WorkerSettingsCard /> : null}
      </div>
    </>
  );
}

function NodeRow({ node: n, attachmentCount, canManage }: { node: NodeItem; attachmentCount: number; canManage: boolean }) {
  const [expanded, setExpanded] = useState(false);
  const detailId = `node-${n.id}-attachments`;
  return (
    <Fragment>
      <tr>
        <Td className="font-medium">
          <button
            type="button"
            aria-expanded={expanded}
            aria-controls={detailId}
            onClick={() => setExpanded((v) => !v)}
            className="inline-flex items-center gap-1 text-left hover:text-indigo-600 dark:hover:text-indigo-400"
          >
            <span aria-hidden className={expanded ? "rotate-90 transition-transform" : "transition-transform"}>
              ▸
            </span>
            {n.name}
            <span className="sr-only"> (show attachments)</span>
          </button>
        </Td>
        <Td>
          <NodeHealthBadge health={nodeHealth(n)} />
        </Td>
        <Td>
          <Badge tone={n.status === "active" ? "green" : n.status === "draining" ? "yellow" : "gray"}>{humanize(n.status)}</Badge>
        </Td>
        <Td className="font-mono text-xs">{n.hostname}</Td>
        <Td className="font-mono text-xs">{n.version}</Td>
        <Td className="text-xs">
          {Object.entries(n.labels).map(([k, v]) => (
            <span key={k} className="mr-1 inline-block rounded bg-slate-100 px-1.5 py-0.5 font-mono dark:bg-slate-800">
              {k}={v}
            </span>
          ))}
        </Td>
        <Td className="whitespace-nowrap text-slate-600 dark:text-slate-400">
          <span title={formatDateTime(n.lastHeartbeatAt)}>{formatRelative(n.lastHeartbeatAt)}</span>
        </Td>
        <Td className="tabular-nums">{attachmentCount}</Td>
        <Td className="whitespace-nowrap text-right">{canManage && n.status !== "revoked" ? <NodeActions node={n} /> : null}</Td>
      </tr>
      {expanded ? (
        <tr id={detailId}>
          <td colSpan={9} className="bg-slate-50 px-4 py-3 dark:bg-slate-950/40">
            <NodeAttachments node={n} />
          </td>
        </tr>
      ) : null}
    </Fragment>
  );
}

function NodeAttachments({ node }: { node: NodeItem }) {
  const tenant = useTenant();
  const trpc = useTRPC();
  const q = useQuery(trpc.nodeAdmin.attachments.queryOptions({ tenantId: tenant.id, nodeId: node.id }, { refetchInterval: 3_000 }));
  return (
    <div className="space-y-2">
      <h3 className="text-sm font-semibold">Live attachments on {node.name}</h3>
      <AttachmentsTable query={q} caption={`Live attachments on ${node.name}`} show="file" empty="No process on this node is attached to a shared file." />
      <NodeRoutes node={node} />
    </div>
  );
}

function rate(n: number | null | undefined, unit = ""): string {
  if (n === null || n === undefined) return "—";
  return `${n >= 100 ? Math.round(n).toLocaleString() : n.toFixed(1)}${unit}`;
}

/** The node's transport decisions and live rates per shared file (its workers' route reports). */
function NodeRoutes({ node }: { node: NodeItem }) {
  const tenant = useTenant();
  const trpc = useTRPC();
  const q = useQuery(trpc.routing.nodeRoutes.queryOptions({ tenantId: tenant.id, nodeId: node.id }, { refetchInterval: 3_000 }));
  if (q.isPending) return <Skeleton rows={1} label="Loading routes" />;
  if (q.error) return <ErrorAlert error={q.error} />;
  return (
    <div className="space-y-2 pt-2">
      <h3 className="text-sm font-semibold">Transports and rates on {node.name}</h3>
      {q.data.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">This node has reported no transport decision.</p>
      ) : (
        <Table caption={`Transports and rates on ${node.name}`} head={["File", "Transport", "Reason", "Shared memory", "Network", "Net p50", "Stream lag"]}>
          {q.data.map((r) => (
            <tr key={r.sharedFileId}>
              <Td className="font-mono text-xs">{r.fileName}</Td>
              <Td>{r.transport ? <Badge tone={r.transport === "SHARED_MEMORY" ? "green" : r.transport === "NETWORK" ? "indigo" : "yellow"}>{humanize(r.transport)}</Badge> : <Badge tone="red">Refused</Badge>}</Td>
              <Td className="max-w-sm text-xs">{r.reason}</Td>
              <Td className="tabular-nums text-xs">{rate(r.stats?.sharedMemory.messagesPerSec, " msg/s")}</Td>
              <Td className="tabular-nums text-xs">{rate(r.stats?.network.messagesPerSec, " msg/s")}</Td>
              <Td className="tabular-nums text-xs">{rate(r.stats?.network.latencyP50Us, " µs")}</Td>
              <Td className="tabular-nums text-xs">{rate(r.stats?.streamLagMs, " ms")}</Td>
            </tr>
          ))}
        </Table>
      )}
    </div>
  );
}

function NodeActions({ node }: { node: NodeItem }) {
  const tenant = useTenant();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirm, setConfirm] = useState<null | "drain" | "undrain" | "revoke">(null);
  const refresh = async () => {
    setConfirm(null);
    await queryClient.invalidateQueries({ queryKey: trpc.node.pathKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.nodeAdmin.attachments.pathKey() });
  };
  const drain = useMutation(trpc.nodeAdmin.drain.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.nodeAdmin.revoke.mutationOptions({ onSuccess: refresh }));
  const draining = node.status === "draining";
  return (
    <div className="flex justify-end gap-2">
      <Button
        size="sm"
        variant="secondary"
        onClick={() => {
          drain.reset();
          setConfirm(draining ? "undrain" : "drain");
        }}
        aria-label={`${draining ? "Resume" : "Drain"} ${node.name}`}
      >
        {draining ? "Resume" : "Drain"}
      </Button>
      <Button
        size="sm"
        variant="danger"
        onClick={() => {
          revoke.reset();
          setConfirm("revoke");
        }}
        aria-label={`Revoke ${node.name}`}
      >
        Revoke
      </Button>
      <ConfirmDialog
        open={confirm === "drain" || confirm === "undrain"}
        title={confirm === "undrain" ? `Resume ${node.name}?` : `Drain ${node.name}?`}
        confirmLabel={confirm === "undrain" ? "Resume node" : "Drain node"}
        confirmVariant="primary"
        pending={drain.isPending}
        error={drain.error ? messageOf(drain.error) : undefined}
        onConfirm={() => drain.mutate({ tenantId: tenant.id, nodeId: node.id, drain: confirm === "drain" })}
        onClose={() => setConfirm(null)}
      >
        {confirm === "undrain"
          ? "The node accepts new sessions and opens again."
          : "The node refuses new client sessions and opens at its next heartbeat; processes already attached keep working. You can resume it later."}
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "revoke"}
        title={`Revoke ${node.name}?`}
        confirmLabel="Revoke node"
        confirmText={node.name}
        pending={revoke.isPending}
        error={revoke.error ? messageOf(revoke.error) : undefined}
        onConfirm={() => revoke.mutate({ tenantId: tenant.id, nodeId: node.id })}
        onClose={() => setConfirm(null)}
      >
        The node&apos;s credential stops working at once: the worker stops serving and its clients are disconnected. This cannot be undone;
        the host must join again with a new join token.
      </ConfirmDialog>
    </div>
  );
}

/** "zone=eu-1" lines (or comma-separated) → labels; errors name the bad entry. */
function parseLabels(text: string): { labels: Record<string, string>; error?: string } {
  const labels: Record<string, string> = {};
  for (const raw of text.split(/[\n,]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const eq = entry.indexOf("=");
    if (eq <= 0) return { labels, error: `“${entry}” is not key=value.` };
    const key = entry.slice(0, eq).trim();
    const value = entry.slice(eq + 1).trim();
    if (!/^[A-Za-z0-9._/-]{1,63}$/.test(key)) return { labels, error: `Label key “${key}”: 1–63 letters, digits, “.”, “_”, “-” or “/”.` };
    if (!/^[A-Za-z0-9._/:-]{0,255}$/.test(value)) return { labels, error: `Label value of “${key}”: letters, digits, “.”, “_”, “-”, “/” or “:”, up to 255.` };
    labels[key] = value;
  }
  return { labels };
}

function AddNodeDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const tenant = useTenant();
  const trpc = useTRPC();
  const [labelText, setLabelText] = useState("");
  const [clientError, setClientError] = useState<string | undefined>();
  const create = useMutation(trpc.nodeAdmin.createJoinToken.mutationOptions());
  const fields = fieldErrorsOf(create.error);
  const labelError = clientError ?? (Object.entries(fields).find(([k]) => k.startsWith("labels"))?.[1] ?? undefined);
  const close = () => {
    setLabelText("");
    setClientError(undefined);
    create.reset();
    onClose();
  };
  const created = create.data;
  return (
    <Dialog
      open={open}
      title="Add a node"
      description="Creates a one-time join token (valid for 1 hour) and the command that joins a host to this tenant."
      onClose={close}
      dismissible={!create.isPending}
    >
      {created ? (
        <div className="space-y-4">
          <SecretOnce
            label="Command to run on the host"
            value={created.command}
            note={
              <>
                Shown once: copy it now. The join token in it works for one join and expires {formatRelative(created.expiresAt)} (
                {formatDateTime(created.expiresAt)}). The node appears in the list after it joins.
              </>
            }
          />
          <div className="flex justify-end">
            <Button onClick={close}>Done</Button>
          </div>
        </div>
      ) : (
        <form
          className="space-y-4"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            const parsed = parseLabels(labelText);
            setClientError(parsed.error);
            if (parsed.error) return;
            create.mutate({ tenantId: tenant.id, labels: parsed.labels });
          }}
        >
          <Field
            label="Labels"
            error={labelError}
            help="Optional. One key=value per line, e.g. zone=eu-west-1. The node keeps them; the worker can add its own."
          >
            {(p) => <Textarea {...p} rows={3} value={labelText} onChange={(e) => setLabelText(e.target.value)} className="font-mono" />}
          </Field>
          {create.error && !labelError ? <ErrorAlert error={create.error} /> : null}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={close} disabled={create.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create join command
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
