"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";

import { emptyFormState, SharedFileForm } from "~/components/shared-files/shared-file-form";
import { tenantHref, useTenant } from "~/components/tenant/tenant-context";
import { fieldErrorsOf, messageOf } from "~/components/ui/errors";
import { Alert, PageHeader } from "~/components/ui/layout";
import { useTRPC } from "~/trpc/react";

export default function NewSharedFilePage() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const create = useMutation(
    trpc.sharedFile.create.mutationOptions({
      onSuccess: async (file) => {
        await queryClient.invalidateQueries({ queryKey: trpc.sharedFile.pathKey() });
        router.push(tenantHref(tenant, `files/${encodeURIComponent(file.name)}`));
      },
    }),
  );
  if (!tenant.can("file:create")) {
    return (
      <>
        <PageHeader title="New shared file" />
        <Alert tone="warning">Your role cannot create shared files. Ask an operator, admin or owner.</Alert>
      </>
    );
  }
  const fields = fieldErrorsOf(create.error);
  return (
    <>
      <PageHeader
        title="New shared file"
        description="Only the name, kind and layout need you; every other field has a sensible default. Each field says what it does."
      />
      <SharedFileForm
        mode="create"
        initial={emptyFormState()}
        serverErrors={fields}
        formError={create.error && Object.keys(fields).length === 0 ? messageOf(create.error) : undefined}
        pending={create.isPending}
        submitLabel="Create shared file"
        onSubmit={(value) => create.mutate({ tenantId: tenant.id, file: value })}
        onCancel={() => router.push(tenantHref(tenant, "files"))}
      />
    </>
  );
}
