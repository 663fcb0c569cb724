"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { useTenant } from "~/components/tenant/tenant-context";
import { Button } from "~/components/ui/button";
import { ErrorAlert, type FieldErrors, fieldErrorsOf, messageOf } from "~/components/ui/errors";
import { Field, Input, Select } from "~/components/ui/field";
import { formatDateTime } from "~/components/ui/format";
import { ConfirmDialog } from "~/components/ui/interactive";
import { Alert, Badge, Card, Skeleton, Table, Td } from "~/components/ui/layout";
import { WorkerSettingsSchema, type WorkerSettings } from "~/server/contracts/worker";
import { useTRPC } from "~/trpc/react";

type NumericKey = Exclude<keyof WorkerSettings, "logLevel">;

const LOG_LEVELS = WorkerSettingsSchema.shape.logLevel.unwrap().options;
const DEFAULTS = WorkerSettingsSchema.parse({});

const NUMERIC_FIELDS: Array<{ key: NumericKey; label: string; unit: string; help: string }> = [
  { key: "heartbeatIntervalMs", label: "Heartbeat interval", unit: "ms", help: "1000–60000 ms. Health is judged against it: Degraded after 2×, Unresponsive after 4×, Disconnected after 8×." },
  { key: "cataloguePollMs", label: "Catalogue poll interval", unit: "ms", help: "250–5000 ms. How often workers check for shared-file and settings changes." },
  { key: "apiKeyCacheMs", label: "API key cache", unit: "ms", help: "0–5000 ms. How long a worker trusts a verified key: the delay before a revocation bites." },
  { key: "maxSessions", label: "Max sessions per worker", unit: "sessions", help: "1–100000 client sessions one worker accepts at a time." },
  { key: "maxAttachmentsPerSession", label: "Max attachments per session", unit: "attachments", help: "1–10000 shared files one client session may hold open." },
];

function toForm(s: WorkerSettings): Record<keyof WorkerSettings, string> {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, String(v)])) as Record<keyof WorkerSettings, string>;
}

/** What differs from the defaults, for the history table. */
function summary(s: WorkerSettings): string {
  const diff = (Object.keys(DEFAULTS) as Array<keyof WorkerSettings>).filter((k) => s[k] !== DEFAULTS[k]).map((k) => `${k}=${s[k]}`);
  return diff.length ? diff.join(", ") : "Defaults";
}

/** Tenant-wide worker settings: edit (a new version), history, rollback. */
export function WorkerSettingsCard() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canUpdate = tenant.can("settings:update");
  const current = useQuery(trpc.nodeAdmin.settingsGet.queryOptions({ tenantId: tenant.id }));
  const [form, setForm] = useState<Record<keyof WorkerSettings, string> | null>(null);
  const [clientErrors, setClientErrors] = useState<FieldErrors>({});
  const [rollingBack, setRollingBack] = useState<number | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    if (current.data && form === null) setForm(toForm(current.data.settings));
  }, [current.data, form]);

  const afterWrite = async (r: { version: number; settings: WorkerSettings }, what: string) => {
    setForm(toForm(r.settings));
    setSaved(`${what}: version ${r.version} is active. Running workers apply it within 5 seconds.`);
    setRollingBack(null);
    await queryClient.invalidateQueries({ queryKey: trpc.nodeAdmin.settingsGet.pathKey() });
  };
  const update = useMutation(trpc.nodeAdmin.settingsUpdate.mutationOptions({ onSuccess: (r) => afterWrite(r, "Saved") }));
  const rollback = useMutation(trpc.nodeAdmin.settingsRollback.mutationOptions({ onSuccess: (r) => afterWrite(r, "Rolled back") }));
  const errors: FieldErrors = { ...fieldErrorsOf(update.error), ...clientErrors };

  if (current.isPending || (current.data && !form)) {
    return (
      <Card title="Worker settings">
        <Skeleton rows={4} label="Loading worker settings" />
      </Card>
    );
  }
  if (current.error) {
    return (
      <Card title="Worker settings">
        <ErrorAlert error={current.error} />
      </Card>
    );
  }
  const data = current.data;
  const f = form!;

  return (
    <Card
      title="Worker settings"
      description="Apply to every worker of this tenant without a restart (within 5 seconds). Each save is a new version; roll back to any earlier one."
      actions={<Badge tone="indigo">Version {data.version === 0 ? "0 (defaults)" : data.version}</Badge>}
    >
      <form
        className="space-y-5"
        noValidate
        aria-label="Worker settings"
        onSubmit={(e) => {
          e.preventDefault();
          setSaved(null);
          const errs: FieldErrors = {};
          const settings: Record<string, unknown> = { logLevel: f.logLevel };
          for (const { key } of NUMERIC_FIELDS) {
            const v = f[key].trim();
            if (!/^\d+$/.test(v)) errs[key] = ["Enter a whole number."];
            else settings[key] = Number(v);
          }
          setClientErrors(errs);
          if (Object.keys(errs).length) return;
          update.mutate({ tenantId: tenant.id, settings });
        }}
      >
        <fieldset disabled={!canUpdate} className="grid gap-5 md:grid-cols-2 xl:grid-cols-3">
          {NUMERIC_FIELDS.map(({ key, label, unit, help }) => (
            <Field key={key} label={`${label} (${unit})`} help={help} error={errors[key]}>
              {(p) => (
                <Input
                  {...p}
                  inputMode="numeric"
                  value={f[key]}
                  onChange={(e) => setForm({ ...f, [key]: e.target.value })}
                  className="tabular-nums"
                />
              )}
            </Field>
          ))}
          <Field label="Log level" help="Workers switch their pino level at once." error={errors.logLevel}>
            {(p) => (
              <Select {...p} value={f.logLevel} onChange={(e) => setForm({ ...f, logLevel: e.target.value })}>
                {LOG_LEVELS.map((l) => (
                  <option key={l} value={l}>
                    {l}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        </fieldset>
        {update.error && Object.keys(fieldErrorsOf(update.error)).length === 0 ? <ErrorAlert error={update.error} /> : null}
        {saved ? <Alert tone="success">{saved}</Alert> : null}
        {canUpdate ? (
          <div className="flex justify-end gap-2">
            <Button
              variant="secondary"
              onClick={() => {
                setForm(toForm(data.settings));
                setClientErrors({});
                update.reset();
              }}
              disabled={update.isPending}
            >
              Reset
            </Button>
            <Button type="submit" loading={update.isPending}>
              Save settings
            </Button>
          </div>
        ) : (
          <p className="text-sm text-slate-600 dark:text-slate-400">Your role can view these settings but not change them.</p>
        )}
      </form>

      <h3 className="mt-8 mb-2 text-sm font-semibold">Version history</h3>
      {data.history.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">No version saved yet: workers use the defaults (version 0).</p>
      ) : (
        <Table caption="Worker settings versions" head={["Version", "Saved", "Settings", <span key="a" className="sr-only">Actions</span>]}>
          {data.history.map((h) => (
            <tr key={h.version}>
              <Td className="font-medium tabular-nums">
                {h.version} {h.active ? <Badge tone="green">Active</Badge> : null}
              </Td>
              <Td className="whitespace-nowrap text-slate-600 dark:text-slate-400">{formatDateTime(h.createdAt)}</Td>
              <Td className="font-mono text-xs">{summary(h.settings)}</Td>
              <Td className="text-right">
                {canUpdate && !h.active ? (
                  <Button
                    size="sm"
                    variant="secondary"
                    aria-label={`Roll back to version ${h.version}`}
                    onClick={() => {
                      rollback.reset();
                      setRollingBack(h.version);
                    }}
                  >
                    Rollback
                  </Button>
                ) : null}
              </Td>
            </tr>
          ))}
        </Table>
      )}
      <ConfirmDialog
        open={rollingBack !== null}
        title={`Roll back to version ${rollingBack ?? ""}?`}
        confirmLabel="Roll back"
        confirmVariant="primary"
        pending={rollback.isPending}
        error={rollback.error ? messageOf(rollback.error) : undefined}
        onConfirm={() => rollingBack !== null && rollback.mutate({ tenantId: tenant.id, version: rollingBack })}
        onClose={() => setRollingBack(null)}
      >
        Saves version {rollingBack}&apos;s settings as a new version and makes it active. History is kept; running workers apply it within
        5 seconds.
      </ConfirmDialog>
    </Card>
  );
}
