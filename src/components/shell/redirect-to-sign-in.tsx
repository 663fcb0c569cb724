"use client";

import { useEffect } from "react";

import { Skeleton } from "../ui/layout";

/**
 * Sends the browser to /signin with the current URL as callbackUrl. A client component
 * because a server layout does not know the full URL it is rendering.
 */
export function RedirectToSignIn() {
  useEffect(() => {
    const here = window.location.pathname + window.location.search;
    window.location.replace(`/signin?callbackUrl=${encodeURIComponent(here)}`);
  }, []);
  return (
    <main className="mx-auto w-full max-w-md px-4 py-16">
      <Skeleton rows={1} label="Redirecting to sign in" />
    </main>
  );
}
