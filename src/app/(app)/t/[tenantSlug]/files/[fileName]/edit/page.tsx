"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams, useRouter } from "next/navigation";

import { formStateOf, SharedFileForm } from "~/components/shared-files/shared-file-form";
import { tenantHref, useTenant } from "~/components/tenant/tenant-context";
import { errorCodeOf, ErrorAlert, fieldErrorsOf, messageOf } from "~/components/ui/errors";
import { Alert, PageHeader, Skeleton } from "~/components/ui/layout";
import { useTRPC } from "~/trpc/react";

export default function EditSharedFilePage() {
  const params = useParams<{ fileName: string }>();
  const name = decodeURIComponent(params.fileName);
  const tenant = useTenant();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const file = useQuery(trpc.sharedFile.get.queryOptions({ tenantId: tenant.id, name }));
  const detailHref = tenantHref(tenant, `files/${encodeURIComponent(name)}`);
  const update = useMutation(
    trpc.sharedFile.update.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.sharedFile.pathKey() });
        router.push(detailHref);
      },
    }),
  );

  if (!tenant.can("file:update")) {
    return (
      <>
        <PageHeader title={`Edit ${name}`} />
        <Alert tone="warning">Your role cannot change shared files.</Alert>
      </>
    );
  }
  if (file.isPending) return <Skeleton rows={8} label="Loading shared file" />;
  if (file.error) return <ErrorAlert error={file.error} />;
  const f = file.data;
  const fields = fieldErrorsOf(update.error);
  const conflict = errorCodeOf(update.error) === "CONFLICT";
  return (
    <>
      <PageHeader
        title={<>Edit <span className="font-mono">{f.name}</span></>}
        description={`Revision ${f.revision}. Changes reach the workers with their next catalogue sync.`}
      />
      <SharedFileForm
        key={f.revision}
        mode="edit"
        initial={formStateOf(f)}
        serverErrors={fields}
        formError={
          conflict ? (
            <>
              Someone changed this file since you opened it.{" "}
              <button type="button" className="font-semibold underline" onClick={() => void file.refetch().then(() => update.reset())}>
                Load the latest version
              </button>{" "}
              (your edits will be replaced).
            </>
          ) : update.error && Object.keys(fields).length === 0 ? (
            messageOf(update.error)
          ) : undefined
        }
        pending={update.isPending}
        submitLabel="Save changes"
        onSubmit={(value) => {
          // name and kind are immutable; everything else is sent with the revision we edited.
          const { name: _name, kind: _kind, ...patch } = value;
          update.mutate({ tenantId: tenant.id, name: f.name, patch: { ...patch, revision: f.revision } });
        }}
        onCancel={() => router.push(detailHref)}
      />
    </>
  );
}
