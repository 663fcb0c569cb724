"use client";

import Link from "next/link";
import { useParams, usePathname } from "next/navigation";
import { signOut } from "next-auth/react";

import { Logo } from "../logo";
import { ROLE_LABELS } from "../tenant/tenant-context";
import { cn } from "../ui/cn";
import { Disclosure, panelItem } from "./disclosure";
import { ThemeToggle } from "./theme-toggle";
import { useMe } from "./use-me";

/** The app's top bar: logo, tenant switcher, theme toggle, user menu with sign-out. */
export function TopBar() {
  const me = useMe();
  const params = useParams<{ tenantSlug?: string }>();
  const pathname = usePathname();
  const currentSlug = params.tenantSlug ? decodeURIComponent(params.tenantSlug) : undefined;
  const memberships = me.data?.memberships ?? [];
  const current = memberships.find((m) => m.tenant.slug === currentSlug);
  // Keep the section when switching tenants: /t/a/members → /t/b/members.
  const section = currentSlug ? pathname.split("/").slice(3, 4).join("") : "";

  return (
    <header className="sticky top-0 z-20 border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-950/90">
      <div className="mx-auto flex h-14 max-w-7xl items-center gap-2 px-4 sm:px-6">
        <Link href="/" className="flex items-center gap-2 rounded-md pr-2 font-semibold" aria-label="Commy home">
          <Logo className="size-7" />
          <span className="hidden sm:inline">Commy</span>
        </Link>
        <span className="text-slate-300 dark:text-slate-700" aria-hidden>
          /
        </span>
        {me.data ? (
          <nav aria-label="Tenant switcher">
            <Disclosure
              buttonLabel={current ? `Tenant: ${current.tenant.name}. Switch tenant` : "Switch tenant"}
              button={
                <span className="max-w-[10rem] truncate sm:max-w-xs">
                  {current ? current.tenant.name : "Select a tenant"}
                </span>
              }
            >
              {(close) => (
                <div>
                  <p className="px-3 pt-1 pb-2 text-xs font-semibold tracking-wide text-slate-500 uppercase">
                    Your tenants
                  </p>
                  <ul>
                    {memberships.map((m) => (
                      <li key={m.tenant.id}>
                        <Link
                          href={`/t/${encodeURIComponent(m.tenant.slug)}${section ? `/${section}` : ""}`}
                          onClick={close}
                          aria-current={m.tenant.slug === currentSlug ? "page" : undefined}
                          className={cn(panelItem, "flex items-center justify-between gap-2")}
                        >
                          <span className={cn("truncate", m.tenant.slug === currentSlug && "font-semibold")}>
                            {m.tenant.name}
                          </span>
                          <span className="text-xs text-slate-500">{ROLE_LABELS[m.role]}</span>
                        </Link>
                      </li>
                    ))}
                  </ul>
                  <div className="mt-1 border-t border-slate-200 pt-1 dark:border-slate-700">
                    <Link href="/tenants/new" onClick={close} className={panelItem}>
                      + Create tenant
                    </Link>
                  </div>
                </div>
              )}
            </Disclosure>
          </nav>
        ) : (
          <span className="h-5 w-28 animate-pulse rounded bg-slate-200 dark:bg-slate-800" aria-hidden />
        )}
        <div className="ml-auto flex items-center gap-1">
          <ThemeToggle />
          {me.data ? (
            <Disclosure
              align="right"
              buttonLabel={`Account: ${me.data.user.name ?? me.data.user.email ?? "you"}`}
              button={
                <span className="flex size-7 items-center justify-center rounded-full bg-indigo-100 text-xs font-semibold text-indigo-700 dark:bg-indigo-900 dark:text-indigo-200">
                  {initials(me.data.user.name ?? me.data.user.email ?? "?")}
                </span>
              }
            >
              {() => (
                <div>
                  <div className="border-b border-slate-200 px-3 pt-1 pb-2 dark:border-slate-700">
                    <p className="truncate text-sm font-medium">{me.data.user.name ?? "Signed in"}</p>
                    <p className="truncate text-xs text-slate-500">{me.data.user.email}</p>
                  </div>
                  <button
                    type="button"
                    className={panelItem}
                    onClick={() => void signOut({ callbackUrl: "/signin" })}
                  >
                    Sign out
                  </button>
                </div>
              )}
            </Disclosure>
          ) : null}
        </div>
      </div>
    </header>
  );
}

function initials(s: string): string {
  const parts = s.split(/[\s@.]+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "?") + (parts[1]?.[0] ?? "")).toUpperCase();
}
