"use client";

import { type ClientSafeProvider, getProviders, signIn } from "next-auth/react";
import { useEffect, useState } from "react";

import { Button } from "~/components/ui/button";
import { Skeleton } from "~/components/ui/layout";

/** Friendlier names for the providers next-auth knows (the OIDC one is the local/generic IdP). */
function labelFor(p: ClientSafeProvider): string {
  if (p.id === "oidc") return p.name && p.name !== "oidc" ? p.name : "Single sign-on (OIDC)";
  return p.name;
}

/**
 * One button per provider that is actually configured (fetched from `/api/auth/providers`),
 * so GitHub/Google appear only when their env vars are set.
 */
export function SignInButtons({ callbackUrl }: { callbackUrl: string }) {
  const [providers, setProviders] = useState<ClientSafeProvider[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [pending, setPending] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    getProviders()
      .then((p) => {
        if (cancelled) return;
        if (!p) setFailed(true);
        else setProviders(Object.values(p));
      })
      .catch(() => !cancelled && setFailed(true));
    return () => {
      cancelled = true;
    };
  }, []);

  if (failed) {
    return (
      <p role="alert" className="text-sm text-red-700 dark:text-red-300">
        The sign-in service is not reachable. Reload the page in a moment.
      </p>
    );
  }
  if (!providers) return <Skeleton rows={2} label="Loading sign-in options" />;
  if (providers.length === 0) {
    return (
      <p className="text-sm text-slate-600 dark:text-slate-400">
        No identity provider is configured. Set the OIDC, GitHub or Google variables (see the README).
      </p>
    );
  }
  // Local/generic OIDC first: it is the one that always exists in development.
  const sorted = [...providers].sort((a, b) => Number(b.id === "oidc") - Number(a.id === "oidc"));
  return (
    <ul className="space-y-3">
      {sorted.map((p) => (
        <li key={p.id}>
          <Button
            className="w-full"
            variant={p.id === "oidc" ? "primary" : "secondary"}
            loading={pending === p.id}
            disabled={pending !== null}
            onClick={() => {
              setPending(p.id);
              void signIn(p.id, { callbackUrl });
            }}
          >
            Sign in with {labelFor(p)}
          </Button>
        </li>
      ))}
    </ul>
  );
}
