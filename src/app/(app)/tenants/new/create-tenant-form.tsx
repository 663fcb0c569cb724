"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";

import { Button } from "~/components/ui/button";
import { ErrorAlert, fieldErrorsOf } from "~/components/ui/errors";
import { Field, Input } from "~/components/ui/field";
import { slugify } from "~/server/contracts/tenant";
import { useTRPC } from "~/trpc/react";


export function CreateTenantForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugTouched, setSlugTouched] = useState(false);
  const effectiveSlug = slugTouched ? slug : slugify(name);

  const create = useMutation(
    trpc.tenant.create.mutationOptions({
      onSuccess: async (tenant) => {
        await queryClient.invalidateQueries({ queryKey: trpc.me.pathKey() });
        router.push(`/t/${encodeURIComponent(tenant.slug)}`);
      },
    }),
  );
  const fields = fieldErrorsOf(create.error);

  return (
    <form
      className="space-y-5"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate({ name: name.trim(), slug: effectiveSlug || undefined });
      }}
    >
      <Field label="Tenant name" required error={fields.name} help="Shown in the tenant switcher. You can rename it later.">
        {(p) => (
          <Input {...p} value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} placeholder="Acme Robotics" />
        )}
      </Field>
      <Field
        label="URL name"
        error={fields.slug}
        help={
          <>
            Derived from the name unless you change it. Lower-case letters, digits and dashes; used in
            addresses like <span className="font-mono">/t/{effectiveSlug || "acme-robotics"}</span>. Unique
            across Commy; cannot change later.
          </>
        }
      >
        {(p) => (
          <Input
            {...p}
            value={effectiveSlug}
            onChange={(e) => {
              setSlugTouched(true);
              setSlug(e.target.value);
            }}
            pattern="[a-z0-9]+(-[a-z0-9]+)*"
            maxLength={48}
            className="font-mono"
          />
        )}
      </Field>
      {Object.keys(fields).length === 0 ? <ErrorAlert error={create.error} /> : null}
      <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
        Create tenant
      </Button>
    </form>
  );
}
