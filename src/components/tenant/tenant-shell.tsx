"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect } from "react";

import { rememberTenant, useMe } from "../shell/use-me";
import { LinkButton } from "../ui/button";
import { cn } from "../ui/cn";
import { ErrorAlert } from "../ui/errors";
import { EmptyState, Skeleton } from "../ui/layout";
import { ROLE_LABELS, TenantProvider, tenantHref } from "./tenant-context";

const NAV = [
  { path: "", label: "Overview" },
  { path: "members", label: "Members" },
  { path: "api-keys", label: "API keys" },
  { path: "files", label: "Shared files" },
  { path: "nodes", label: "Nodes" },
  { path: "events", label: "Events" },
  { path: "audit", label: "Audit log" },
  { path: "settings", label: "Settings" },
] as const;

/**
 * Resolves `/t/[slug]` to one of the user's memberships and renders the tenant's navigation.
 * A slug the user is not a member of looks exactly like one that does not exist.
 */
export function TenantShell({ slug, children }: { slug: string; children: React.ReactNode }) {
  const me = useMe();
  const pathname = usePathname();
  const membership = me.data?.memberships.find((m) => m.tenant.slug === slug);
  useEffect(() => {
    if (membership) rememberTenant(membership.tenant.slug);
  }, [membership]);

  if (me.error) {
    return (
      <main className="mx-auto w-full max-w-3xl px-4 py-10">
        <ErrorAlert error={me.error} title="Could not load your tenants" />
      </main>
    );
  }
  if (!me.data) {
    return (
      <main className="mx-auto w-full max-w-3xl px-4 py-10">
        <Skeleton rows={4} label="Loading tenant" />
      </main>
    );
  }
  if (!membership) {
    return (
      <main className="mx-auto w-full max-w-3xl px-4 py-10">
        <h1 className="sr-only">Tenant not found</h1>
        <EmptyState
          title="Tenant not found"
          description={`There is no tenant "${slug}", or you are not a member of it.`}
          action={<LinkButton href="/">Go to your tenants</LinkButton>}
        />
      </main>
    );
  }

  const base = tenantHref(membership.tenant);
  const tenant = { ...membership.tenant, role: membership.role };
  return (
    <TenantProvider tenant={tenant}>
      <div className="mx-auto flex w-full max-w-7xl flex-1 flex-col md:flex-row">
        <nav
          aria-label="Tenant sections"
          className="border-b border-slate-200 md:w-56 md:shrink-0 md:border-r md:border-b-0 dark:border-slate-800"
        >
          <div className="hidden px-4 pt-6 pb-2 md:block">
            <p className="truncate text-sm font-semibold">{membership.tenant.name}</p>
            <p className="text-xs text-slate-500 dark:text-slate-400">Your role: {ROLE_LABELS[membership.role]}</p>
          </div>
          <ul className="flex gap-1 overflow-x-auto px-2 py-2 md:flex-col md:px-2 md:py-2">
            {NAV.map((item) => {
              const href = item.path ? `${base}/${item.path}` : base;
              const active = item.path ? pathname === href || pathname.startsWith(`${href}/`) : pathname === base;
              return (
                <li key={item.path} className="shrink-0">
                  <Link
                    href={href}
                    aria-current={active ? "page" : undefined}
                    className={cn(
                      "block rounded-md px-3 py-2 text-sm font-medium whitespace-nowrap",
                      active
                        ? "bg-indigo-50 text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300"
                        : "text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800",
                    )}
                  >
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <main className="min-w-0 flex-1 px-4 py-6 sm:px-6 lg:px-8">{children}</main>
      </div>
    </TenantProvider>
  );
}
