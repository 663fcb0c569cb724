import type { Metadata } from "next";

import { Logo } from "~/components/logo";
import { SignInButtons } from "./sign-in-buttons";

export const metadata: Metadata = { title: "Sign in" };

/** next-auth's error codes (`?error=`) in words a user can act on. */
const errorMessages: Record<string, string> = {
  OAuthSignin: "Could not start signing in with that provider. Try again.",
  OAuthCallback: "The identity provider's answer could not be verified. Try again.",
  OAuthCreateAccount: "Could not create your account. Try again or ask an administrator.",
  Callback: "Signing in failed on the way back from the identity provider.",
  OAuthAccountNotLinked:
    "This email is already linked to another sign-in method. Use the one you signed in with first.",
  SessionRequired: "Sign in to continue.",
  AccessDenied: "Access was denied.",
  Default: "Signing in failed. Try again.",
};

/** Only same-origin paths may be used as the post-sign-in destination (no open redirect). */
function safeCallbackUrl(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return "/";
  try {
    const url = new URL(v, "http://commy.invalid");
    if (url.origin !== "http://commy.invalid") return "/";
    return url.pathname + url.search + url.hash;
  } catch {
    return "/";
  }
}

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const errorCode = Array.isArray(params.error) ? params.error[0] : params.error;
  const error = errorCode ? (errorMessages[errorCode] ?? errorMessages.Default) : undefined;
  const callbackUrl = safeCallbackUrl(params.callbackUrl);

  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <div className="flex flex-col items-center text-center">
          <Logo className="size-12" />
          <h1 className="mt-4 text-2xl font-semibold tracking-tight">Sign in to Commy</h1>
          <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">
            Shared files at memory speed, across processes and hosts.
          </p>
        </div>
        <div className="mt-8 rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800">
          {error ? (
            <div
              role="alert"
              className="mb-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 ring-1 ring-red-200 ring-inset dark:bg-red-950/50 dark:text-red-200 dark:ring-red-900"
            >
              {error}
            </div>
          ) : null}
          <SignInButtons callbackUrl={callbackUrl} />
        </div>
        <p className="mt-6 text-center text-xs text-slate-500 dark:text-slate-400">
          Invited to a tenant? Sign in with the email address the invitation was sent to.
        </p>
      </div>
    </main>
  );
}
