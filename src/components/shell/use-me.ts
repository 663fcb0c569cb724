"use client";

import { useQuery } from "@tanstack/react-query";

import { useTRPC } from "~/trpc/react";

/**
 * The signed-in user and their memberships (tenant + role), from the `me` router.
 * One hook so every page reads the same cached query.
 */
export function useMe() {
  const trpc = useTRPC();
  return useQuery(trpc.me.get.queryOptions(undefined, { staleTime: 60_000 }));
}

const LAST_TENANT_KEY = "commy-last-tenant";

/** Remembers the last tenant visited so `/` can return to it. */
export function rememberTenant(slug: string): void {
  try {
    localStorage.setItem(LAST_TENANT_KEY, slug);
  } catch {
    // Storage unavailable: `/` falls back to the first tenant.
  }
}

export function lastTenant(): string | null {
  try {
    return localStorage.getItem(LAST_TENANT_KEY);
  } catch {
    return null;
  }
}
