"use client";

import { useInfiniteQuery, useMutation } from "@tanstack/react-query";
import { useState } from "react";

import { useTenant } from "~/components/tenant/tenant-context";
import { Button, buttonClasses } from "~/components/ui/button";
import { ErrorAlert, fieldErrorsOf } from "~/components/ui/errors";
import { Field, Input, Select } from "~/components/ui/field";
import { formatDateTime } from "~/components/ui/format";
import { Alert, Badge, type BadgeTone, Card, EmptyState, PageHeader, Skeleton, Table, Td } from "~/components/ui/layout";
import { AUDIT_ACTIONS } from "~/server/audit/actions";
import { type RouterInputs, useTRPC } from "~/trpc/react";

type Filters = NonNullable<RouterInputs["audit"]["list"]["filters"]>;

/** Form state of the filter bar (strings as typed); applied on submit. */
type FilterForm = { actor: string; action: string; target: string; outcome: string; from: string; to: string };
const EMPTY: FilterForm = { actor: "", action: "", target: "", outcome: "", from: "", to: "" };

/** Action groups ("member.") for prefix filtering, then every action. */
const ACTION_GROUPS = [...new Set(AUDIT_ACTIONS.map((a) => `${a.split(".")[0]}.`))];

function toFilters(f: FilterForm): Filters {
  const filters: Filters = {};
  if (f.actor.trim()) filters.actor = f.actor.trim();
  if (f.action) filters.action = f.action;
  // "type:id" targets a thing exactly; a bare word is a target type (e.g. "file").
  const target = f.target.trim();
  if (target) {
    const i = target.indexOf(":");
    if (i > 0) {
      filters.targetType = target.slice(0, i);
      filters.targetId = target.slice(i + 1);
    } else {
      filters.targetType = target;
    }
  }
  if (f.outcome) filters.outcome = f.outcome as NonNullable<Filters["outcome"]>;
  if (f.from) filters.from = new Date(f.from);
  if (f.to) filters.to = new Date(f.to);
  return filters;
}

/**
 * URL of the export route (a streamed download, session cookie) for these filters:
 * GET /api/tenants/{tenantId}/audit/export?format=csv|jsonl&actor=…
 */
function exportHref(tenantId: string, format: "csv" | "jsonl", filters: Filters): string {
  const q = new URLSearchParams({ format });
  for (const [k, v] of Object.entries(filters)) {
    if (v === undefined) continue;
    q.set(k, v instanceof Date ? v.toISOString() : String(v));
  }
  return `/api/tenants/${encodeURIComponent(tenantId)}/audit/export?${q.toString()}`;
}

/** Target types the services record (suggestions for the Target filter). */
const TARGET_TYPES = ["tenant", "user", "invitation", "apiKey", "sharedFile", "node", "nodeJoinToken", "workerSettings"];

const OUTCOME_TONE: Record<string, BadgeTone> = { SUCCESS: "green", DENIED: "orange", FAILURE: "red" };
const ACTOR_LABEL: Record<string, string> = {
  USER: "User",
  API_KEY: "API key",
  NODE: "Node",
  SYSTEM: "System",
  ANONYMOUS: "Anonymous",
};

export function AuditView() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const [form, setForm] = useState<FilterForm>(EMPTY);
  const [filters, setFilters] = useState<Filters>({});
  const list = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions(
      { tenantId: tenant.id, filters, limit: 50 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const verify = useMutation(trpc.audit.verify.mutationOptions());
  const events = list.data?.pages.flatMap((p) => p.items) ?? [];
  const fields = fieldErrorsOf(list.error);
  const err = (k: string) => fields[k] ?? fields[`filters.${k}`];

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change in this tenant, who made it, from where, and whether it succeeded. Events form a hash chain: each stores the hash of the one before, so a removed or altered event is detected."
        actions={
          <>
            {tenant.can("audit:verify") ? (
              <Button variant="secondary" onClick={() => verify.mutate({ tenantId: tenant.id })} loading={verify.isPending}>
                Verify chain
              </Button>
            ) : null}
            {tenant.can("audit:export") ? (
              <>
                <a
                  className={buttonClasses("secondary")}
                  href={exportHref(tenant.id, "csv", filters)}
                  download
                >
                  Export CSV
                </a>
                <a
                  className={buttonClasses("secondary")}
                  href={exportHref(tenant.id, "jsonl", filters)}
                  download
                >
                  Export JSON Lines
                </a>
              </>
            ) : null}
          </>
        }
      />

      {verify.error ? (
        <div className="mb-4">
          <ErrorAlert error={verify.error} title="Verification failed to run" />
        </div>
      ) : verify.data ? (
        <div className="mb-4">
          {verify.data.ok ? (
            <Alert tone="success" title="Chain OK">
              {verify.data.checked.toLocaleString()} event{verify.data.checked === 1 ? "" : "s"} checked up to #
              {verify.data.headSeq}; every event links to the one before it and none was altered.
              {verify.data.purged > 0 ? ` ${verify.data.purged} older events were purged by retention; verification starts after #${verify.data.anchorSeq}.` : ""}
            </Alert>
          ) : (
            <Alert tone="error" title={`Chain broken at event #${verify.data.firstBroken?.seq ?? "?"}`}>
              {verify.data.firstBroken ? (
                <>
                  {BROKEN_REASON[verify.data.firstBroken.reason]} (event id{" "}
                  <span className="font-mono">{verify.data.firstBroken.id}</span>; expected{" "}
                  <span className="font-mono break-all">{verify.data.firstBroken.expected}</span>, found{" "}
                  <span className="font-mono break-all">{verify.data.firstBroken.actual}</span>).
                </>
              ) : (
                "The chain does not verify."
              )}
            </Alert>
          )}
        </div>
      ) : null}

      <Card className="mb-6">
        <form
          className="grid gap-4 sm:grid-cols-2 lg:grid-cols-6 lg:items-start"
          onSubmit={(e) => {
            e.preventDefault();
            setFilters(toFilters(form));
          }}
        >
          <Field label="Actor" error={err("actor")} className="lg:col-span-1">
            {(p) => <Input {...p} value={form.actor} placeholder="name, email, key" onChange={(e) => setForm({ ...form, actor: e.target.value })} />}
          </Field>
          <Field label="Action" error={err("action")}>
            {(p) => (
              <Select {...p} value={form.action} onChange={(e) => setForm({ ...form, action: e.target.value })}>
                <option value="">Any action</option>
                <optgroup label="Groups">
                  {ACTION_GROUPS.map((g) => (
                    <option key={g} value={g}>
                      {g}*
                    </option>
                  ))}
                </optgroup>
                <optgroup label="Actions">
                  {AUDIT_ACTIONS.map((a) => (
                    <option key={a} value={a}>
                      {a}
                    </option>
                  ))}
                </optgroup>
              </Select>
            )}
          </Field>
          <Field label="Target" error={err("targetType") ?? err("targetId")}>
            {(p) => (
              <>
                <Input
                  {...p}
                  list="audit-target-types"
                  value={form.target}
                  placeholder="type or type:id"
                  onChange={(e) => setForm({ ...form, target: e.target.value })}
                />
                <datalist id="audit-target-types">
                  {TARGET_TYPES.map((t) => (
                    <option key={t} value={t} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
          <Field label="Outcome" error={err("outcome")}>
            {(p) => (
              <Select {...p} value={form.outcome} onChange={(e) => setForm({ ...form, outcome: e.target.value })}>
                <option value="">Any</option>
                <option value="SUCCESS">Success</option>
                <option value="DENIED">Denied</option>
                <option value="FAILURE">Failure</option>
              </Select>
            )}
          </Field>
          <Field label="From" error={err("from")}>
            {(p) => <Input {...p} type="datetime-local" value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} />}
          </Field>
          <Field label="To" error={err("to")}>
            {(p) => <Input {...p} type="datetime-local" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} />}
          </Field>
          <div className="flex gap-2 sm:col-span-2 lg:col-span-6">
            <Button type="submit">Apply filters</Button>
            <Button
              variant="ghost"
              onClick={() => {
                setForm(EMPTY);
                setFilters({});
              }}
            >
              Clear
            </Button>
          </div>
        </form>
      </Card>

      <Card>
        {list.isPending ? (
          <Skeleton rows={6} label="Loading audit events" />
        ) : list.error ? (
          <ErrorAlert error={list.error} />
        ) : events.length === 0 ? (
          <EmptyState
            title="No events"
            description={Object.keys(filters).length ? "Nothing matches these filters." : "Nothing has happened in this tenant yet."}
          />
        ) : (
          <>
            <Table caption="Audit events, newest first" head={["#", "When", "Actor", "Action", "Target", "Outcome", "Details"]}>
              {events.map((e) => (
                <tr key={e.id}>
                  <Td className="text-slate-500 tabular-nums">{e.seq}</Td>
                  <Td className="whitespace-nowrap">{formatDateTime(e.occurredAt)}</Td>
                  <Td>
                    {e.actorLabel || e.actorId ? (
                      <button
                        type="button"
                        className="max-w-[13rem] text-left font-medium break-all hover:underline"
                        title="Show only this actor's events"
                        onClick={() => {
                          const actor = e.actorId ?? e.actorLabel ?? "";
                          setForm({ ...EMPTY, actor });
                          setFilters({ actor });
                        }}
                      >
                        {e.actorLabel ?? e.actorId}
                      </button>
                    ) : (
                      <div className="font-medium">—</div>
                    )}
                    <div className="text-xs text-slate-500 dark:text-slate-400">{ACTOR_LABEL[e.actorType] ?? e.actorType}</div>
                  </Td>
                  <Td className="font-mono text-xs whitespace-nowrap">{e.action}</Td>
                  <Td className="text-xs">
                    {e.targetType ? (
                      <button
                        type="button"
                        className="text-left hover:underline"
                        title="Show only this target's events"
                        onClick={() => {
                          const target = e.targetId ? `${e.targetType}:${e.targetId}` : (e.targetType ?? "");
                          setForm({ ...EMPTY, target });
                          setFilters(toFilters({ ...EMPTY, target }));
                        }}
                      >
                        <span className="font-medium">{e.targetType}</span>
                        {e.targetId ? <span className="block max-w-[10rem] truncate font-mono text-slate-500">{e.targetId}</span> : null}
                      </button>
                    ) : (
                      "—"
                    )}
                  </Td>
                  <Td>
                    <Badge tone={OUTCOME_TONE[e.outcome] ?? "gray"}>{e.outcome.toLowerCase()}</Badge>
                  </Td>
                  <Td className="text-xs">
                    <details>
                      <summary className="cursor-pointer text-indigo-700 dark:text-indigo-300">Show</summary>
                      <dl className="mt-2 grid max-w-md grid-cols-[auto_1fr] gap-x-3 gap-y-1">
                        <dt className="text-slate-500">IP</dt>
                        <dd className="font-mono">{e.ip ?? "—"}</dd>
                        <dt className="text-slate-500">User agent</dt>
                        <dd className="break-all">{e.userAgent ?? "—"}</dd>
                        <dt className="text-slate-500">Request</dt>
                        <dd className="font-mono break-all">{e.requestId ?? "—"}</dd>
                        {e.before !== null && e.before !== undefined ? (
                          <>
                            <dt className="text-slate-500">Before</dt>
                            <dd>
                              <pre className="overflow-x-auto rounded bg-slate-100 p-1 dark:bg-slate-800">{JSON.stringify(e.before, null, 2)}</pre>
                            </dd>
                          </>
                        ) : null}
                        {e.after !== null && e.after !== undefined ? (
                          <>
                            <dt className="text-slate-500">After</dt>
                            <dd>
                              <pre className="overflow-x-auto rounded bg-slate-100 p-1 dark:bg-slate-800">{JSON.stringify(e.after, null, 2)}</pre>
                            </dd>
                          </>
                        ) : null}
                        <dt className="text-slate-500">Hash</dt>
                        <dd className="font-mono break-all">{e.hash}</dd>
                      </dl>
                    </details>
                  </Td>
                </tr>
              ))}
            </Table>
            <div className="mt-4 flex items-center justify-center">
              {list.hasNextPage ? (
                <Button variant="secondary" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
                  Load more
                </Button>
              ) : (
                <p className="text-xs text-slate-500">End of the log{Object.keys(filters).length ? " for these filters" : ""}.</p>
              )}
            </div>
          </>
        )}
      </Card>
    </>
  );
}

const BROKEN_REASON: Record<string, string> = {
  hash_mismatch: "This event was changed after it was written",
  prev_hash_mismatch: "This event does not point at the event before it",
  seq_gap: "An event is missing before this one",
  head_mismatch: "The newest events were removed",
};
