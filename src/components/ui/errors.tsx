import { Alert } from "./layout";

/** Field name → messages, as the server flattens zod errors. */
export type FieldErrors = Record<string, string[] | undefined>;

/**
 * What the server's tRPC error formatter puts in `error.data` (src/server/api/trpc.ts):
 * `appCode` (same as REST's `error.code`) and `fieldErrors` keyed by dotted path
 * ("performance.durability"; "_" for errors about the whole input). `message` is safe to show.
 */
type ErrorData = {
  code?: string;
  appCode?: string;
  httpStatus?: number;
  zodError?: { fieldErrors?: FieldErrors; formErrors?: string[] } | null;
  fieldErrors?: FieldErrors | null;
};

function dataOf(error: unknown): ErrorData | undefined {
  if (error && typeof error === "object" && "data" in error) {
    const data = (error as { data?: unknown }).data;
    if (data && typeof data === "object") return data as ErrorData;
  }
  return undefined;
}

/**
 * The per-field messages of a tRPC error (zod errors flattened by the server's error
 * formatter into `data.zodError.fieldErrors`, or `data.fieldErrors`). Empty when none.
 */
export function fieldErrorsOf(error: unknown): FieldErrors {
  const data = dataOf(error);
  const all = data?.fieldErrors ?? data?.zodError?.fieldErrors ?? {};
  const { _: _formLevel, ...fields } = all;
  return fields;
}

/** The tRPC error code (e.g. "FORBIDDEN", "NOT_FOUND"), if any. */
export function errorCodeOf(error: unknown): string | undefined {
  return dataOf(error)?.code;
}

/** A message fit for the user: the server's message, or a generic one per code. */
export function messageOf(error: unknown): string {
  const data = dataOf(error);
  const formErrors = data?.fieldErrors?._ ?? data?.zodError?.formErrors;
  if (formErrors && formErrors.length > 0) return formErrors.join(" ");
  const hasFieldErrors = Object.keys(fieldErrorsOf(error)).length > 0;
  if (hasFieldErrors) return "Some fields need attention.";
  const message = error instanceof Error ? error.message : undefined;
  // zod errors stringify as JSON; never show that raw.
  if (message && !message.trim().startsWith("[") && !message.trim().startsWith("{")) return message;
  switch (data?.code) {
    case "UNAUTHORIZED":
      return "Your session has ended. Sign in again.";
    case "FORBIDDEN":
      return "Your role does not allow this action.";
    case "NOT_FOUND":
      return "Not found, or you do not have access to it.";
    case "CONFLICT":
      return "That conflicts with an existing record.";
    default:
      return "Something went wrong. Try again.";
  }
}

/** An error box for a failed query or mutation; renders nothing when there is no error. */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <Alert tone="error" title={title}>
      {messageOf(error)}
    </Alert>
  );
}
