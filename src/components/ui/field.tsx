import { type ComponentProps, type ReactNode, useId } from "react";

import { cn } from "./cn";

const control =
  "block w-full rounded-md border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset " +
  "ring-slate-300 placeholder:text-slate-400 focus:ring-2 focus:ring-inset focus:ring-indigo-600 " +
  "disabled:cursor-not-allowed disabled:bg-slate-100 disabled:text-slate-500 " +
  "dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700 dark:placeholder:text-slate-500 " +
  "dark:focus:ring-indigo-500 dark:disabled:bg-slate-800";

const invalid = "ring-red-500 dark:ring-red-500";

type FieldRenderProps = {
  id: string;
  "aria-describedby"?: string;
  "aria-invalid"?: true;
  "aria-required"?: true;
};

export type FieldProps = {
  label: ReactNode;
  /** What the field does and what happens with each value. */
  help?: ReactNode;
  /** Validation message(s) from the server (zod field errors) or the client. */
  error?: string | string[] | undefined;
  required?: boolean;
  className?: string;
  /** Render prop: spread the props onto the control so label, help and error are wired. */
  children: (props: FieldRenderProps) => ReactNode;
};

/**
 * A labelled form control with help text and an error message, wired with `htmlFor`,
 * `aria-describedby` and `aria-invalid` so screen readers (and Playwright's getByLabel) find it.
 */
export function Field({ label, help, error, required, className, children }: FieldProps) {
  const id = useId();
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const errors = error === undefined ? [] : Array.isArray(error) ? error : [error];
  const describedBy = [errors.length > 0 ? errorId : null, help ? helpId : null]
    .filter(Boolean)
    .join(" ");
  return (
    <div className={cn("space-y-1.5", className)}>
      <div className="flex items-baseline">
        <label htmlFor={id} className="block text-sm font-medium text-slate-800 dark:text-slate-200">
          {label}
        </label>
        {/* Outside the label so the field's name stays exactly the label; aria-required says it. */}
        {required ? (
          <span className="ml-0.5 text-sm text-red-600 dark:text-red-400" aria-hidden>
            *
          </span>
        ) : null}
      </div>
      {children({
        id,
        "aria-describedby": describedBy || undefined,
        "aria-invalid": errors.length > 0 ? true : undefined,
        "aria-required": required ? true : undefined,
      })}
      {errors.length > 0 ? (
        <p id={errorId} className="text-sm text-red-600 dark:text-red-400" role="alert">
          {errors.join(" ")}
        </p>
      ) : null}
      {help ? (
        <p id={helpId} className="text-xs leading-5 text-slate-500 dark:text-slate-400">
          {help}
        </p>
      ) : null}
    </div>
  );
}

export function Input({ className, ...props }: ComponentProps<"input">) {
  return <input className={cn(control, props["aria-invalid"] ? invalid : null, className)} {...props} />;
}

export function Textarea({ className, ...props }: ComponentProps<"textarea">) {
  return (
    <textarea className={cn(control, props["aria-invalid"] ? invalid : null, className)} {...props} />
  );
}

export function Select({ className, ...props }: ComponentProps<"select">) {
  return (
    <select
      className={cn(control, "pr-8", props["aria-invalid"] ? invalid : null, className)}
      {...props}
    />
  );
}

/** A checkbox with its label on the right and optional help text below. */
export function Checkbox({
  label,
  help,
  className,
  ...props
}: Omit<ComponentProps<"input">, "type"> & { label: ReactNode; help?: ReactNode }) {
  const id = useId();
  return (
    <div className={cn("flex items-start gap-3", className)}>
      <input
        id={id}
        type="checkbox"
        aria-describedby={help ? `${id}-help` : undefined}
        className="mt-0.5 size-4 rounded border-slate-300 text-indigo-600 accent-indigo-600 focus:ring-indigo-600 dark:border-slate-600"
        {...props}
      />
      <div className="text-sm">
        <label htmlFor={id} className="font-medium text-slate-800 dark:text-slate-200">
          {label}
        </label>
        {help ? (
          <p id={`${id}-help`} className="text-xs leading-5 text-slate-500 dark:text-slate-400">
            {help}
          </p>
        ) : null}
      </div>
    </div>
  );
}

/** A group of related controls (e.g. scope checkboxes) with a legend and an error. */
export function Fieldset({
  legend,
  help,
  error,
  children,
  className,
}: {
  legend: ReactNode;
  help?: ReactNode;
  error?: string | string[] | undefined;
  children: ReactNode;
  className?: string;
}) {
  const id = useId();
  const errors = error === undefined ? [] : Array.isArray(error) ? error : [error];
  return (
    <fieldset
      className={cn("space-y-3", className)}
      aria-describedby={errors.length > 0 ? `${id}-error` : undefined}
    >
      <legend className="text-sm font-medium text-slate-800 dark:text-slate-200">{legend}</legend>
      {help ? <p className="-mt-1 text-xs leading-5 text-slate-500 dark:text-slate-400">{help}</p> : null}
      {children}
      {errors.length > 0 ? (
        <p id={`${id}-error`} className="text-sm text-red-600 dark:text-red-400" role="alert">
          {errors.join(" ")}
        </p>
      ) : null}
    </fieldset>
  );
}
