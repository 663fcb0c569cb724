"use client";

import { type ReactNode, useEffect, useId, useRef, useState } from "react";

import { Button, type ButtonVariant } from "./button";
import { Field, Input } from "./field";

/** Copies `value` to the clipboard and says so (announced to screen readers). */
export function CopyButton({ value, label = "Copy" }: { value: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <Button
      variant="secondary"
      size="sm"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(value);
        } catch {
          // Clipboard API unavailable (e.g. insecure origin): fall back to a hidden textarea.
          const ta = document.createElement("textarea");
          ta.value = value;
          document.body.appendChild(ta);
          ta.select();
          document.execCommand("copy");
          ta.remove();
        }
        setCopied(true);
      }}
    >
      <span aria-live="polite">{copied ? "Copied" : label}</span>
    </Button>
  );
}

/** A secret shown exactly once, in a read-only field with a copy button. */
export function SecretOnce({ label, value, note }: { label: string; value: string; note: ReactNode }) {
  return (
    <div className="space-y-2 rounded-md bg-amber-50 p-4 ring-1 ring-amber-200 dark:bg-amber-950/40 dark:ring-amber-900">
      <Field label={label} help={note}>
        {(p) => (
          <div className="flex gap-2">
            <Input {...p} readOnly value={value} className="font-mono" onFocus={(e) => e.currentTarget.select()} />
            <CopyButton value={value} />
          </div>
        )}
      </Field>
    </div>
  );
}

/**
 * A modal confirmation built on <dialog> (focus trap, Escape and the dialog role for free).
 * With `confirmText`, the confirm button stays disabled until the user types it exactly.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  confirmVariant = "danger",
  confirmText,
  pending,
  error,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  confirmVariant?: ButtonVariant;
  /** When set, the user must type this to enable the confirm button. */
  confirmText?: string;
  pending?: boolean;
  error?: ReactNode;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [typed, setTyped] = useState("");
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      setTyped("");
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);
  const typedOk = confirmText === undefined || typed === confirmText;
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onClose={onClose}
      onCancel={(e) => {
        if (pending) e.preventDefault();
      }}
      className="m-auto w-[min(32rem,calc(100vw-2rem))] rounded-lg bg-white p-0 text-slate-900 shadow-xl ring-1 ring-slate-200 backdrop:bg-slate-950/50 dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700"
    >
      <form
        method="dialog"
        className="space-y-4 p-6"
        onSubmit={(e) => {
          e.preventDefault();
          if (typedOk && !pending) onConfirm();
        }}
      >
        <h2 id={titleId} className="text-lg font-semibold">
          {title}
        </h2>
        {children ? <div className="text-sm text-slate-600 dark:text-slate-300">{children}</div> : null}
        {confirmText !== undefined ? (
          <Field label={<>Type <span className="font-mono font-semibold">{confirmText}</span> to confirm</>}>
            {(p) => (
              <Input {...p} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" autoFocus />
            )}
          </Field>
        ) : null}
        {error ? (
          <div role="alert" className="text-sm text-red-600 dark:text-red-400">
            {error}
          </div>
        ) : null}
        <div className="flex justify-end gap-2 pt-2">
          <Button variant="secondary" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant={confirmVariant} disabled={!typedOk} loading={pending}>
            {confirmLabel}
          </Button>
        </div>
      </form>
    </dialog>
  );
}

/**
 * A modal dialog on <dialog> (focus trap, Escape, the dialog role) for content that is not a
 * plain confirmation, e.g. a small form followed by a result.
 */
export function Dialog({
  open,
  title,
  description,
  children,
  onClose,
  dismissible = true,
}: {
  open: boolean;
  title: string;
  description?: ReactNode;
  children: ReactNode;
  onClose: () => void;
  /** False while a request runs: Escape does nothing. */
  dismissible?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    else if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      aria-describedby={description ? descId : undefined}
      onClose={onClose}
      onCancel={(e) => {
        if (!dismissible) e.preventDefault();
      }}
      className="m-auto w-[min(40rem,calc(100vw-2rem))] rounded-lg bg-white p-0 text-slate-900 shadow-xl ring-1 ring-slate-200 backdrop:bg-slate-950/50 dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700"
    >
      {open ? (
        <div className="space-y-4 p-6">
          <div>
            <h2 id={titleId} className="text-lg font-semibold">
              {title}
            </h2>
            {description ? (
              <p id={descId} className="mt-1 text-sm text-slate-600 dark:text-slate-300">
                {description}
              </p>
            ) : null}
          </div>
          {children}
        </div>
      ) : null}
    </dialog>
  );
}
