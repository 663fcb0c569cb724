"use client";

import { type ReactNode, useMemo, useState } from "react";

import { Button } from "../ui/button";
import { cn } from "../ui/cn";
import { type FieldErrors } from "../ui/errors";
import { Checkbox, Field, Fieldset, Input, Select, Textarea } from "../ui/field";
import { formatBytes, formatSeconds } from "../ui/format";
import { Alert, Card } from "../ui/layout";
import { ENUM_HELP, valueLabel } from "./labels";
import { API_KEY_SCOPES, type ApiKeyScope } from "~/server/auth/permissions";
import {
  CONSISTENCIES,
  CREATION_POLICIES,
  DIRECTIONALITIES,
  DURABILITIES,
  EXISTENCE_POLICIES,
  MAX_SHARED_FILE_BYTES,
  MIN_SHARED_FILE_BYTES,
  OVERFLOW_POLICIES,
  PATTERNS,
  requiredBytes,
  SERIALIZATIONS,
  SHARED_FILE_KINDS,
  TOPOLOGIES,
  TRANSPORT_PREFERENCES,
  type TLayout,
  type TSharedFile,
  type TSharedFileCreate,
  type TSharedFileCreateInput,
  ZSharedFileCreate,
} from "~/server/contracts/shared-file";

type Kind = (typeof SHARED_FILE_KINDS)[number];

/** Form state: numbers as the strings the user typed, so half-typed input is never lost. */
export type SharedFileFormState = {
  name: string;
  description: string;
  kind: Kind;
  pattern: (typeof PATTERNS)[number];
  topology: (typeof TOPOLOGIES)[number];
  directionality: (typeof DIRECTIONALITIES)[number];
  serialization: (typeof SERIALIZATIONS)[number];
  maxSizeBytes: string;
  ttlSeconds: string;
  maxConnections: string;
  creationPolicy: (typeof CREATION_POLICIES)[number];
  existencePolicy: (typeof EXISTENCE_POLICIES)[number];
  autoCleanup: boolean;
  persistAfterDisconnect: boolean;
  requiredPermissions: ApiKeyScope[];
  transportPreference: (typeof TRANSPORT_PREFERENCES)[number];
  maxLatencyMicros: string;
  minThroughputMsgPerSec: string;
  consistency: (typeof CONSISTENCIES)[number];
  durability: (typeof DURABILITIES)[number];
  slots: Array<{ key: number; name: string; maxSize: string }>;
  messageMaxSize: string;
  capacity: string;
  overflow: (typeof OVERFLOW_POLICIES)[number];
  maxConsumers: string;
};

let slotKey = 0;

/** Defaults match the contract's defaults; the layout gets a sensible starting point. */
export function emptyFormState(): SharedFileFormState {
  return {
    name: "",
    description: "",
    kind: "variables",
    pattern: "one-way",
    topology: "many-to-many",
    directionality: "producer-to-consumer",
    serialization: "json",
    maxSizeBytes: String(1 << 20),
    ttlSeconds: "",
    maxConnections: "",
    creationPolicy: "create-if-absent",
    existencePolicy: "may-exist",
    autoCleanup: true,
    persistAfterDisconnect: false,
    requiredPermissions: [],
    transportPreference: "auto",
    maxLatencyMicros: "",
    minThroughputMsgPerSec: "",
    consistency: "eventual",
    durability: "memory",
    slots: [{ key: slotKey++, name: "value", maxSize: "64" }],
    messageMaxSize: "256",
    capacity: "1024",
    overflow: "overwrite",
    maxConsumers: "64",
  };
}

/** The form state of an existing file (for edit). */
export function formStateOf(f: TSharedFile): SharedFileFormState {
  const base = emptyFormState();
  const s = (n: number | null) => (n === null ? "" : String(n));
  return {
    ...base,
    name: f.name,
    description: f.description,
    kind: f.kind,
    pattern: f.pattern,
    topology: f.topology,
    directionality: f.directionality,
    serialization: f.serialization,
    maxSizeBytes: String(f.maxSizeBytes),
    ttlSeconds: s(f.ttlSeconds),
    maxConnections: s(f.maxConnections),
    creationPolicy: f.creationPolicy,
    existencePolicy: f.existencePolicy,
    autoCleanup: f.autoCleanup,
    persistAfterDisconnect: f.persistAfterDisconnect,
    requiredPermissions: [...f.requiredPermissions],
    transportPreference: f.transportPreference,
    maxLatencyMicros: s(f.performance.maxLatencyMicros),
    minThroughputMsgPerSec: s(f.performance.minThroughputMsgPerSec),
    consistency: f.performance.consistency,
    durability: f.performance.durability,
    ...(f.layout.type === "variables"
      ? { slots: f.layout.slots.map((sl) => ({ key: slotKey++, name: sl.name, maxSize: String(sl.maxSize) })) }
      : {
          messageMaxSize: String(f.layout.messageMaxSize),
          capacity: String(f.layout.capacity),
          overflow: f.layout.overflow,
          maxConsumers: String(f.layout.maxConsumers),
        }),
  };
}

/** "" → null; a whole number → that number; anything else → NaN (reported per field). */
function num(s: string): number | null {
  const t = s.trim().replace(/[_\s]/g, "");
  if (t === "") return null;
  return /^-?\d+$/.test(t) ? Number(t) : Number.NaN;
}

function layoutOf(s: SharedFileFormState): TLayout {
  return s.kind === "variables"
    ? { type: "variables", slots: s.slots.map((sl) => ({ name: sl.name.trim(), maxSize: num(sl.maxSize) ?? Number.NaN })) }
    : {
        type: "stream",
        messageMaxSize: num(s.messageMaxSize) ?? Number.NaN,
        capacity: num(s.capacity) ?? Number.NaN,
        overflow: s.overflow,
        maxConsumers: num(s.maxConsumers) ?? Number.NaN,
      };
}

/** The API input (ZSharedFileCreate's shape) for the state. */
export function toCreateInput(s: SharedFileFormState) {
  return {
    name: s.name.trim(),
    description: s.description,
    kind: s.kind,
    pattern: s.pattern,
    topology: s.topology,
    directionality: s.directionality,
    serialization: s.serialization,
    maxSizeBytes: num(s.maxSizeBytes) ?? Number.NaN,
    ttlSeconds: num(s.ttlSeconds),
    maxConnections: num(s.maxConnections),
    creationPolicy: s.creationPolicy,
    existencePolicy: s.existencePolicy,
    autoCleanup: s.autoCleanup,
    persistAfterDisconnect: s.persistAfterDisconnect,
    requiredPermissions: s.requiredPermissions,
    transportPreference: s.transportPreference,
    performance: {
      maxLatencyMicros: num(s.maxLatencyMicros),
      minThroughputMsgPerSec: num(s.minThroughputMsgPerSec),
      consistency: s.consistency,
      durability: s.durability,
    },
    layout: layoutOf(s),
  } satisfies TSharedFileCreateInput;
}

/**
 * Validates with the same zod schema the server uses, so most mistakes are caught before the
 * round trip. Errors are keyed by dotted path ("performance.durability", "layout.slots.0.name").
 */
export function validateForm(s: SharedFileFormState): { ok: true; value: TSharedFileCreate } | { ok: false; errors: FieldErrors } {
  const result = ZSharedFileCreate.safeParse(toCreateInput(s));
  if (result.success) return { ok: true, value: result.data };
  const errors: Record<string, string[]> = {};
  for (const issue of result.error.issues) {
    const key = issue.path.join(".");
    const message =
      issue.code === "invalid_type" && issue.expected === "number" ? "Enter a whole number" : issue.message;
    (errors[key] ??= []).push(message);
  }
  return { ok: false, errors };
}

/**
 * The create/edit form of a shared file: every field of the request model, each with what it
 * does. `mode: "edit"` locks name and kind (the server treats them as immutable).
 */
export function SharedFileForm({
  mode,
  initial,
  serverErrors,
  formError,
  pending,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  mode: "create" | "edit";
  initial: SharedFileFormState;
  serverErrors: FieldErrors;
  formError?: ReactNode;
  pending: boolean;
  submitLabel: string;
  onSubmit: (value: TSharedFileCreate) => void;
  onCancel: () => void;
}) {
  const [s, setS] = useState<SharedFileFormState>(initial);
  const [clientErrors, setClientErrors] = useState<FieldErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const set = <K extends keyof SharedFileFormState>(k: K, v: SharedFileFormState[K]) =>
    setS((prev) => ({ ...prev, [k]: v }));

  // Live re-validation after the first submit, so errors disappear as they are fixed.
  const live = useMemo(() => (submitted ? validateForm(s) : null), [s, submitted]);
  const errors: FieldErrors = live ? (live.ok ? serverErrors : live.errors) : { ...serverErrors, ...clientErrors };

  /** Errors of `path`, or of a parent (zod's flatten reports only top-level keys). */
  const err = (path: string): string[] | undefined => {
    const own = errors[path];
    if (own && own.length) return own;
    const top = path.split(".")[0] ?? path;
    return top !== path && errors[top]?.length && !Object.keys(errors).some((k) => k.startsWith(`${top}.`))
      ? errors[top]
      : undefined;
  };

  const need = useMemo(() => {
    try {
      const l = layoutOf(s);
      const n = requiredBytes(l);
      return Number.isFinite(n) ? n : null;
    } catch {
      return null;
    }
  }, [s]);
  const maxSize = num(s.maxSizeBytes);
  const errorCount = Object.values(errors).filter((v) => v && v.length).length;

  const enumSelect = <K extends keyof typeof ENUM_HELP & keyof SharedFileFormState>(
    key: K,
    label: string,
    values: readonly string[],
    description: string,
    disabled = false,
  ) => {
    const helpMap = ENUM_HELP[key] as Record<string, string>;
    const current = s[key] as string;
    return (
      <Field
        label={label}
        error={err(key)}
        help={
          <>
            {description} <span className="font-medium text-slate-700 dark:text-slate-300">{valueLabel(current)}:</span>{" "}
            {helpMap[current]}
          </>
        }
      >
        {(p) => (
          <Select {...p} value={current} disabled={disabled} onChange={(e) => set(key, e.target.value as SharedFileFormState[K])}>
            {values.map((v) => (
              <option key={v} value={v}>
                {valueLabel(v)}
              </option>
            ))}
          </Select>
        )}
      </Field>
    );
  };

  const numberField = (
    key:
      | "maxSizeBytes"
      | "ttlSeconds"
      | "maxConnections"
      | "maxLatencyMicros"
      | "minThroughputMsgPerSec"
      | "messageMaxSize"
      | "capacity"
      | "maxConsumers",
    path: string,
    label: string,
    help: ReactNode,
    placeholder?: string,
  ) => (
    <Field label={label} error={err(path)} help={help}>
      {(p) => (
        <Input
          {...p}
          inputMode="numeric"
          value={s[key]}
          placeholder={placeholder}
          onChange={(e) => set(key, e.target.value)}
          className="tabular-nums"
        />
      )}
    </Field>
  );

  return (
    <form
      noValidate
      className="space-y-6"
      aria-describedby={errorCount > 0 ? "shared-file-form-errors" : undefined}
      onSubmit={(e) => {
        e.preventDefault();
        setSubmitted(true);
        const v = validateForm(s);
        if (!v.ok) {
          setClientErrors(v.errors);
          return;
        }
        setClientErrors({});
        onSubmit(v.value);
      }}
    >
      {errorCount > 0 ? (
        <div id="shared-file-form-errors">
          <Alert tone="error" title={`${errorCount} field${errorCount === 1 ? "" : "s"} need${errorCount === 1 ? "s" : ""} attention`}>
            The messages are next to the fields below.
          </Alert>
        </div>
      ) : formError ? (
        <Alert tone="error">{formError}</Alert>
      ) : null}

      <Card title="What it is" description="The name is how client processes open the file; kind decides its binary layout.">
        <div className="grid gap-5 md:grid-cols-2">
          <Field
            label="Name"
            required
            error={err("name")}
            help={
              mode === "edit"
                ? "Cannot change: workers and clients identify the file by name. Delete and re-create to rename."
                : "Unique in this tenant. 1–128 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit; e.g. sensors.temperature."
            }
          >
            {(p) => (
              <Input
                {...p}
                value={s.name}
                readOnly={mode === "edit"}
                onChange={(e) => set("name", e.target.value)}
                className="font-mono"
                autoComplete="off"
                placeholder="sensors.temperature"
              />
            )}
          </Field>
          {enumSelect(
            "kind",
            "Kind",
            SHARED_FILE_KINDS,
            mode === "edit" ? "Cannot change after creation (the layout depends on it)." : "",
            mode === "edit",
          )}
          <Field label="Description" error={err("description")} help="Free text for humans (up to 1000 characters)." className="md:col-span-2">
            {(p) => <Textarea {...p} rows={2} value={s.description} maxLength={1000} onChange={(e) => set("description", e.target.value)} />}
          </Field>
        </div>
      </Card>

      <Card title="Communication" description="How producers and consumers use the file.">
        <div className="grid gap-5 md:grid-cols-2">
          {enumSelect("pattern", "Pattern", PATTERNS, "The communication pattern; some only fit one kind.")}
          {enumSelect("topology", "Topology", TOPOLOGIES, "How many producers and consumers.")}
          {enumSelect("directionality", "Directionality", DIRECTIONALITIES, "Whether data flows one way or both ways.")}
          {enumSelect("serialization", "Serialization", SERIALIZATIONS, "How values or messages are encoded.")}
        </div>
      </Card>

      <Card
        title="Layout"
        description={
          s.kind === "variables"
            ? "The named latest-value slots. Each slot holds one value of at most its size (double-buffered)."
            : "The ring buffer of messages."
        }
      >
        {s.kind === "variables" ? (
          <Fieldset legend="Slots" error={err("layout.slots") ?? err("layout")}>
            <ul className="space-y-3">
              {s.slots.map((slot, i) => (
                <li key={slot.key} className="grid items-start gap-3 sm:grid-cols-[1fr_10rem_auto]">
                  <Field label={`Slot ${i + 1} name`} error={err(`layout.slots.${i}.name`)}>
                    {(p) => (
                      <Input
                        {...p}
                        className="font-mono"
                        value={slot.name}
                        onChange={(e) =>
                          set("slots", s.slots.map((x) => (x.key === slot.key ? { ...x, name: e.target.value } : x)))
                        }
                      />
                    )}
                  </Field>
                  <Field label={`Slot ${i + 1} max size (bytes)`} error={err(`layout.slots.${i}.maxSize`)}>
                    {(p) => (
                      <Input
                        {...p}
                        inputMode="numeric"
                        value={slot.maxSize}
                        onChange={(e) =>
                          set("slots", s.slots.map((x) => (x.key === slot.key ? { ...x, maxSize: e.target.value } : x)))
                        }
                      />
                    )}
                  </Field>
                  <div className="sm:pt-6">
                    <Button
                      variant="ghost"
                      size="sm"
                      disabled={s.slots.length === 1}
                      onClick={() => set("slots", s.slots.filter((x) => x.key !== slot.key))}
                      aria-label={`Remove slot ${i + 1}`}
                    >
                      Remove
                    </Button>
                  </div>
                </li>
              ))}
            </ul>
            <p className="text-xs text-slate-500 dark:text-slate-400">
              Slot names: 1–40 characters, letters, digits, “.”, “_” or “-”. Max size: the largest encoded value, 1 B – 16 MiB.
            </p>
            <Button
              variant="secondary"
              size="sm"
              onClick={() => set("slots", [...s.slots, { key: slotKey++, name: "", maxSize: "64" }])}
            >
              Add slot
            </Button>
          </Fieldset>
        ) : (
          <div className="grid gap-5 md:grid-cols-2">
            {numberField("messageMaxSize", "layout.messageMaxSize", "Max message size (bytes)", "Largest encoded message, 1 B – 1 MiB.")}
            {numberField("capacity", "layout.capacity", "Capacity (messages)", "Messages the ring holds before the overflow rule applies (2 – 16,777,216).")}
            <Field
              label="Overflow"
              error={err("layout.overflow")}
              help={
                s.overflow === "overwrite"
                  ? "Overwrite: when full, the oldest message is dropped (slow consumers miss data)."
                  : "Refuse: when full, publishing fails until consumers catch up (back-pressure)."
              }
            >
              {(p) => (
                <Select {...p} value={s.overflow} onChange={(e) => set("overflow", e.target.value as SharedFileFormState["overflow"])}>
                  {OVERFLOW_POLICIES.map((o) => (
                    <option key={o} value={o}>
                      {valueLabel(o)}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
            {numberField(
              "maxConsumers",
              "layout.maxConsumers",
              "Max consumers",
              "Consumer cursors the file reserves room for (1–256); consumers beyond it are refused on the node.",
            )}
          </div>
        )}
        <p className="mt-4 text-sm text-slate-600 dark:text-slate-400" aria-live="polite">
          {need !== null ? (
            <>
              This layout needs <strong className="tabular-nums">{formatBytes(need)}</strong> ({need.toLocaleString()} bytes) of the file.
            </>
          ) : (
            "Fill in the layout to see the size it needs."
          )}
        </p>
      </Card>

      <Card title="Size and lifetime">
        <div className="grid gap-5 md:grid-cols-3">
          <div className="space-y-2">
            {numberField(
              "maxSizeBytes",
              "maxSizeBytes",
              "Max size (bytes)",
              <>
                Upper bound of the mapped file, {formatBytes(MIN_SHARED_FILE_BYTES)} – {formatBytes(MAX_SHARED_FILE_BYTES)}; the layout must fit.
                {maxSize !== null && Number.isFinite(maxSize) ? <> Now: {formatBytes(maxSize)}.</> : null}
              </>,
            )}
            {need !== null && (maxSize === null || !Number.isFinite(maxSize) || maxSize < need) ? (
              <Button variant="secondary" size="sm" onClick={() => set("maxSizeBytes", String(Math.max(need, MIN_SHARED_FILE_BYTES)))}>
                Fit to layout ({formatBytes(need)})
              </Button>
            ) : null}
          </div>
          {numberField(
            "ttlSeconds",
            "ttlSeconds",
            "TTL (seconds)",
            <>
              Each node removes its mapping of the file (and the data in it) this long after creating it: open attachments are closed with FILE_EXPIRED, a file.expired event is recorded, and the next attach starts a fresh mapping. Empty: never.
              {num(s.ttlSeconds) ? <> Now: {formatSeconds(num(s.ttlSeconds))}.</> : null}
            </>,
            "never",
          )}
          {numberField(
            "maxConnections",
            "maxConnections",
            "Max connections",
            "Most client processes attached at once, across all nodes (1 – 10,000). Empty: no limit.",
            "no limit",
          )}
        </div>
      </Card>

      <Card title="Creation and cleanup" description="What happens on a node when clients attach and detach.">
        <div className="grid gap-5 md:grid-cols-2">
          {enumSelect("creationPolicy", "Creation policy", CREATION_POLICIES, "Who creates the mapping on a node.")}
          {enumSelect("existencePolicy", "Existence policy", EXISTENCE_POLICIES, "What must be true when a client attaches.")}
          <Checkbox
            label="Auto-cleanup"
            help="Unmap and delete the node's file when the last client detaches."
            checked={s.autoCleanup}
            onChange={(e) => set("autoCleanup", e.target.checked)}
          />
          <div>
            <Checkbox
              label="Persist after disconnect"
              help="Keep the data after every client detached (needs auto-cleanup off)."
              checked={s.persistAfterDisconnect}
              onChange={(e) => set("persistAfterDisconnect", e.target.checked)}
            />
            {err("persistAfterDisconnect") ? (
              <p role="alert" className="mt-1 ml-7 text-sm text-red-600 dark:text-red-400">
                {err("persistAfterDisconnect")?.join(" ")}
              </p>
            ) : null}
          </div>
        </div>
      </Card>

      <Card title="Access">
        <Fieldset
          legend="Required permissions"
          help="API-key scopes a client must hold, in addition to data:read / data:write, to attach to this file. None: data:read / data:write suffice."
          error={err("requiredPermissions")}
        >
          <div className="grid gap-3 sm:grid-cols-3">
            {API_KEY_SCOPES.map((scope) => (
              <Checkbox
                key={scope}
                label={<span className="font-mono">{scope}</span>}
                checked={s.requiredPermissions.includes(scope)}
                onChange={(e) =>
                  set(
                    "requiredPermissions",
                    e.target.checked ? [...s.requiredPermissions, scope] : s.requiredPermissions.filter((x) => x !== scope),
                  )
                }
              />
            ))}
          </div>
        </Fieldset>
      </Card>

      <Card title="Transport and performance" description="The platform picks shared memory or Redis Streams for each attachment and explains why; these fields steer it.">
        <div className="grid gap-5 md:grid-cols-2">
          <div className="md:col-span-2">
            {enumSelect("transportPreference", "Transport preference", TRANSPORT_PREFERENCES, "How the transport is chosen.")}
          </div>
          {numberField(
            "maxLatencyMicros",
            "performance.maxLatencyMicros",
            "Max latency (µs)",
            "Latency the application needs, in microseconds (1 – 60,000,000). Empty: no requirement. Transport selection says when it cannot be met.",
            "no requirement",
          )}
          {numberField(
            "minThroughputMsgPerSec",
            "performance.minThroughputMsgPerSec",
            "Min throughput (messages/s)",
            "Messages or writes per second the application needs. Empty: no requirement.",
            "no requirement",
          )}
          {enumSelect("consistency", "Consistency", CONSISTENCIES, "Cross-node consistency.")}
          {enumSelect("durability", "Durability", DURABILITIES, "Where the data lives.")}
        </div>
        {err("performance") && !Object.keys(errors).some((k) => k.startsWith("performance.")) ? (
          <p role="alert" className="mt-3 text-sm text-red-600 dark:text-red-400">
            {err("performance")?.join(" ")}
          </p>
        ) : null}
      </Card>

      <div className={cn("flex flex-wrap gap-3", "sticky bottom-0 -mx-4 border-t border-slate-200 bg-slate-50/95 px-4 py-3 backdrop-blur sm:mx-0 sm:rounded-b-lg dark:border-slate-800 dark:bg-slate-950/95")}>
        <Button type="submit" loading={pending}>
          {submitLabel}
        </Button>
        <Button variant="secondary" onClick={onCancel} disabled={pending}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
