"use client";

import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { useTenant } from "~/components/tenant/tenant-context";
import { Button } from "~/components/ui/button";
import { ErrorAlert, fieldErrorsOf, messageOf } from "~/components/ui/errors";
import { Checkbox, Field, Fieldset, Input, Select, Textarea } from "~/components/ui/field";
import { formatDateTime, formatRelative } from "~/components/ui/format";
import { ConfirmDialog, SecretOnce } from "~/components/ui/interactive";
import { Badge, Card, EmptyState, PageHeader, Skeleton, Table, Td } from "~/components/ui/layout";
import { API_KEY_SCOPES, type ApiKeyScope } from "~/server/auth/permissions";
import { API_KEY_SCOPE_HELP as SCOPE_HELP } from "~/server/contracts/api-key";
import { type RouterOutputs, useTRPC } from "~/trpc/react";

type ApiKey = RouterOutputs["apiKey"]["list"]["items"][number];

const EXPIRY_PRESETS = [
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "never", label: "No expiry" },
  { value: "custom", label: "Custom date…" },
] as const;

export function ApiKeysView() {
  const tenant = useTenant();
  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys let programs call the REST and tRPC APIs and attach to shared files as this tenant. Send them as “Authorization: Bearer <key>”. Only a hash is stored: the secret is shown once."
      />
      <div className="space-y-6">
        {tenant.can("apikey:create") ? <CreateKeyCard /> : null}
        <KeysCard />
      </div>
    </>
  );
}

function expiryDate(preset: string, custom: string): Date | null {
  if (preset === "never") return null;
  if (preset === "custom") return custom ? new Date(`${custom}T23:59:59`) : null;
  return new Date(Date.now() + Number(preset) * 24 * 3600 * 1000);
}

function CreateKeyCard() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<ApiKeyScope[]>(["files:read"]);
  const [patterns, setPatterns] = useState("");
  const [preset, setPreset] = useState<string>("90");
  const [customDate, setCustomDate] = useState("");
  const create = useMutation(
    trpc.apiKey.create.mutationOptions({
      onSuccess: async () => {
        setName("");
        setPatterns("");
        await queryClient.invalidateQueries({ queryKey: trpc.apiKey.list.pathKey() });
      },
    }),
  );
  const fields = fieldErrorsOf(create.error);
  const created = create.data;

  return (
    <Card title="Create an API key">
      <form
        className="space-y-5"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({
            tenantId: tenant.id,
            name: name.trim(),
            scopes,
            filePatterns: patterns
              .split(/[\n,]/)
              .map((s) => s.trim())
              .filter(Boolean),
            expiresAt: expiryDate(preset, customDate),
          });
        }}
      >
        <div className="grid gap-5 md:grid-cols-2">
          <Field label="Key name" required error={fields.name} help="Unique in this tenant; say what uses it, e.g. “sensor-ingest (prod)”.">
            {(p) => <Input {...p} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} autoComplete="off" />}
          </Field>
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label="Expires" error={fields.expiresAt} help="Expired keys get 401 and must be replaced.">
              {(p) => (
                <Select {...p} value={preset} onChange={(e) => setPreset(e.target.value)}>
                  {EXPIRY_PRESETS.map((o) => (
                    <option key={o.value} value={o.value}>
                      {o.label}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
            {preset === "custom" ? (
              <Field label="Expiry date">
                {(p) => (
                  <Input
                    {...p}
                    type="date"
                    value={customDate}
                    min={new Date(Date.now() + 24 * 3600e3).toISOString().slice(0, 10)}
                    onChange={(e) => setCustomDate(e.target.value)}
                  />
                )}
              </Field>
            ) : null}
          </div>
        </div>
        <Fieldset legend="Scopes" help="Grant only what the program needs. A key can never manage members, keys or the tenant." error={fields.scopes}>
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
            {API_KEY_SCOPES.map((s) => (
              <Checkbox
                key={s}
                label={<span className="font-mono">{s}</span>}
                help={SCOPE_HELP[s]}
                checked={scopes.includes(s)}
                onChange={(e) =>
                  setScopes((prev) => (e.target.checked ? [...prev, s] : prev.filter((x) => x !== s)))
                }
              />
            ))}
          </div>
        </Fieldset>
        <Field
          label="Shared-file name patterns"
          error={fields.filePatterns}
          help={
            <>
              One per line (or comma-separated). <span className="font-mono">*</span> matches any run of
              characters, <span className="font-mono">?</span> one character, e.g.{" "}
              <span className="font-mono">sensors.*</span>. Leave empty to allow every shared file.
            </>
          }
        >
          {(p) => (
            <Textarea {...p} rows={2} value={patterns} onChange={(e) => setPatterns(e.target.value)} className="font-mono" placeholder="sensors.*" />
          )}
        </Field>
        {create.error && Object.keys(fields).length === 0 ? <ErrorAlert error={create.error} /> : null}
        <Button type="submit" loading={create.isPending} disabled={!name.trim() || scopes.length === 0}>
          Create API key
        </Button>
      </form>
      {created ? (
        <div className="mt-5">
          <SecretOnce
            label={`Secret of “${created.apiKey.name}”`}
            value={created.secret}
            note="Copy it now: it is shown only once and cannot be recovered. If it is lost, revoke the key and create another."
          />
        </div>
      ) : null}
    </Card>
  );
}

function KeysCard() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useInfiniteQuery(
    trpc.apiKey.list.infiniteQueryOptions(
      { tenantId: tenant.id, limit: 50 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const revoke = useMutation(
    trpc.apiKey.revoke.mutationOptions({
      onSuccess: async () => {
        setRevoking(null);
        await queryClient.invalidateQueries({ queryKey: trpc.apiKey.list.pathKey() });
      },
    }),
  );
  const keys = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Card title="Keys">
      {list.isPending ? (
        <Skeleton rows={3} label="Loading API keys" />
      ) : list.error ? (
        <ErrorAlert error={list.error} />
      ) : keys.length === 0 ? (
        <EmptyState title="No API keys yet" description="Create one to call the API from a program or a worker client." />
      ) : (
        <Table caption="API keys" head={["Name", "Prefix", "Scopes", "File patterns", "Last used", "Expires", "Status", <span key="a" className="sr-only">Actions</span>]}>
          {keys.map((k) => {
            const expired = k.status === "expired" || (k.expiresAt !== null && new Date(k.expiresAt).getTime() < Date.now());
            return (
              <tr key={k.id}>
                <Td className="font-medium">{k.name}</Td>
                <Td className="font-mono text-xs whitespace-nowrap">cmy_{k.prefix}_…</Td>
                <Td>
                  <div className="flex max-w-xs flex-wrap gap-1">
                    {k.scopes.map((s) => (
                      <Badge key={s}>{s}</Badge>
                    ))}
                  </div>
                </Td>
                <Td className="font-mono text-xs">{k.filePatterns.length ? k.filePatterns.join(", ") : <span className="font-sans text-slate-500">all files</span>}</Td>
                <Td className="whitespace-nowrap text-slate-600 dark:text-slate-400">{formatRelative(k.lastUsedAt)}</Td>
                <Td className="whitespace-nowrap text-slate-600 dark:text-slate-400" >
                  <span title={formatDateTime(k.expiresAt)}>{k.expiresAt ? formatDateTime(k.expiresAt) : "never"}</span>
                </Td>
                <Td>
                  {k.status === "revoked" || k.revokedAt ? (
                    <Badge tone="red">Revoked</Badge>
                  ) : expired ? (
                    <Badge tone="yellow">Expired</Badge>
                  ) : (
                    <Badge tone="green">Active</Badge>
                  )}
                </Td>
                <Td className="text-right">
                  {tenant.can("apikey:revoke") && !k.revokedAt ? (
                    <Button size="sm" variant="secondary" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>
                      Revoke
                    </Button>
                  ) : null}
                </Td>
              </tr>
            );
          })}
        </Table>
      )}
      {list.hasNextPage ? (
        <div className="mt-4 flex justify-center">
          <Button variant="secondary" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
            Load more
          </Button>
        </div>
      ) : null}
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke “${revoking?.name ?? ""}”?`}
        confirmLabel="Revoke key"
        pending={revoke.isPending}
        error={revoke.error ? messageOf(revoke.error) : undefined}
        onClose={() => {
          setRevoking(null);
          revoke.reset();
        }}
        onConfirm={() => revoking && revoke.mutate({ tenantId: tenant.id, id: revoking.id })}
      >
        Every request with this key fails with 401 from now on. This cannot be undone.
      </ConfirmDialog>
    </Card>
  );
}
