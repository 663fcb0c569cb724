"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

import { useTenant } from "~/components/tenant/tenant-context";
import { Button } from "~/components/ui/button";
import { ErrorAlert, fieldErrorsOf, messageOf } from "~/components/ui/errors";
import { Field, Input } from "~/components/ui/field";
import { ConfirmDialog } from "~/components/ui/interactive";
import { Alert, Card, PageHeader, Skeleton } from "~/components/ui/layout";
import { useTRPC } from "~/trpc/react";

export function SettingsView() {
  const tenant = useTenant();
  const canUpdate = tenant.can("tenant:update");
  return (
    <>
      <PageHeader title="Settings" description="The tenant's name, how long its audit log is kept, and deleting it." />
      {!canUpdate ? (
        <Alert tone="info" className="mb-6">
          Your role can read these settings but not change them.
        </Alert>
      ) : null}
      <div className="space-y-6">
        <RenameCard />
        <RetentionCard />
        <LeaveCard />
        {tenant.can("tenant:delete") ? <DeleteCard /> : null}
      </div>
    </>
  );
}

function useInvalidateTenant() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.me.pathKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.tenant.pathKey() });
  };
}

function RenameCard() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const invalidate = useInvalidateTenant();
  const [name, setName] = useState(tenant.name);
  useEffect(() => setName(tenant.name), [tenant.name]);
  const rename = useMutation(trpc.tenant.rename.mutationOptions({ onSuccess: invalidate }));
  const fields = fieldErrorsOf(rename.error);
  const disabled = !tenant.can("tenant:update");
  return (
    <Card title="Name" description={`The URL name (/t/${tenant.slug}) stays the same, so links keep working.`}>
      <form
        className="flex flex-col gap-4 sm:flex-row sm:items-start"
        onSubmit={(e) => {
          e.preventDefault();
          rename.mutate({ tenantId: tenant.id, name: name.trim() });
        }}
      >
        <Field label="Tenant name" error={fields.name} className="sm:w-96">
          {(p) => <Input {...p} value={name} onChange={(e) => setName(e.target.value)} disabled={disabled} maxLength={100} />}
        </Field>
        {!disabled ? (
          <div className="sm:pt-6">
            <Button type="submit" loading={rename.isPending} disabled={!name.trim() || name.trim() === tenant.name}>
              Rename
            </Button>
          </div>
        ) : null}
      </form>
      {rename.isSuccess ? <p role="status" className="mt-2 text-sm text-emerald-700 dark:text-emerald-400">Renamed.</p> : null}
      {rename.error && Object.keys(fields).length === 0 ? (
        <div className="mt-3">
          <ErrorAlert error={rename.error} />
        </div>
      ) : null}
    </Card>
  );
}

function RetentionCard() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const invalidate = useInvalidateTenant();
  const current = useQuery(trpc.tenant.get.queryOptions({ tenantId: tenant.id }));
  const [days, setDays] = useState("");
  useEffect(() => {
    if (current.data) setDays(String(current.data.auditRetentionDays));
  }, [current.data]);
  const save = useMutation(trpc.tenant.updateSettings.mutationOptions({ onSuccess: invalidate }));
  const fields = fieldErrorsOf(save.error);
  const disabled = !tenant.can("tenant:update");
  return (
    <Card
      title="Audit retention"
      description="Events older than this are purged by the retention job. The hash chain keeps an anchor, so the remaining events still verify."
    >
      {current.isPending ? (
        <Skeleton rows={1} label="Loading settings" />
      ) : current.error ? (
        <ErrorAlert error={current.error} />
      ) : (
        <form
          className="flex flex-col gap-4 sm:flex-row sm:items-start"
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate({ tenantId: tenant.id, auditRetentionDays: Number(days) });
          }}
        >
          <Field label="Keep audit events for (days)" error={fields.auditRetentionDays} help="Between 7 days and 10 years (3650 days)." className="sm:w-96">
            {(p) => <Input {...p} type="number" min={7} max={3650} value={days} onChange={(e) => setDays(e.target.value)} disabled={disabled} />}
          </Field>
          {!disabled ? (
            <div className="sm:pt-6">
              <Button type="submit" loading={save.isPending} disabled={days === String(current.data.auditRetentionDays)}>
                Save
              </Button>
            </div>
          ) : null}
        </form>
      )}
      {save.isSuccess ? <p role="status" className="mt-2 text-sm text-emerald-700 dark:text-emerald-400">Saved.</p> : null}
      {save.error && Object.keys(fields).length === 0 ? (
        <div className="mt-3">
          <ErrorAlert error={save.error} />
        </div>
      ) : null}
    </Card>
  );
}

function LeaveCard() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const leave = useMutation(
    trpc.member.leave.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.me.pathKey() });
        router.replace("/");
      },
    }),
  );
  return (
    <Card title="Leave tenant">
      <div className="flex flex-col gap-4 sm:flex-row sm:items-center sm:justify-between">
        <p className="text-sm text-slate-600 dark:text-slate-400">
          You lose access to {tenant.name} until someone invites you again.
          {tenant.role === "OWNER" ? " The last owner cannot leave: make another member an owner first." : ""}
        </p>
        <Button variant="secondary" onClick={() => setOpen(true)}>
          Leave tenant
        </Button>
      </div>
      <ConfirmDialog
        open={open}
        title={`Leave ${tenant.name}?`}
        confirmLabel="Leave"
        pending={leave.isPending}
        error={leave.error ? messageOf(leave.error) : undefined}
        onClose={() => {
          setOpen(false);
          leave.reset();
        }}
        onConfirm={() => leave.mutate({ tenantId: tenant.id })}
      >
        You will no longer see its members, keys, files or audit log.
      </ConfirmDialog>
    </Card>
  );
}

function DeleteCard() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const del = useMutation(
    trpc.tenant.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.me.pathKey() });
        router.replace("/");
      },
    }),
  );
  return (
    <Card title="Delete tenant" className="ring-red-200 dark:ring-red-900">
      <div className="flex flex-col gap-4 sm:flex-row sm:items-center sm:justify-between">
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Deletes the tenant with all its members, API keys, nodes, shared files and audit log. Workers lose access at
          once. This cannot be undone.
        </p>
        <Button variant="danger" onClick={() => setOpen(true)}>
          Delete tenant
        </Button>
      </div>
      <ConfirmDialog
        open={open}
        title={`Delete ${tenant.name}?`}
        confirmLabel="Delete this tenant"
        confirmText={tenant.slug}
        pending={del.isPending}
        error={del.error ? messageOf(del.error) : undefined}
        onClose={() => {
          setOpen(false);
          del.reset();
        }}
        onConfirm={() => del.mutate({ tenantId: tenant.id, confirm: tenant.slug })}
      >
        Everything in <strong>{tenant.name}</strong> is deleted permanently.
      </ConfirmDialog>
    </Card>
  );
}
