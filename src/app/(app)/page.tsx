"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

import { lastTenant, useMe } from "~/components/shell/use-me";
import { ErrorAlert } from "~/components/ui/errors";
import { Skeleton } from "~/components/ui/layout";

/** `/`: go to the last-used tenant (or the first), or to "create your first tenant". */
export default function HomePage() {
  const me = useMe();
  const router = useRouter();
  useEffect(() => {
    if (!me.data) return;
    const memberships = me.data.memberships;
    if (memberships.length === 0) {
      router.replace("/tenants/new?first=1");
      return;
    }
    const last = lastTenant();
    const target = memberships.find((m) => m.tenant.slug === last) ?? memberships[0];
    if (target) router.replace(`/t/${encodeURIComponent(target.tenant.slug)}`);
  }, [me.data, router]);
  return (
    <main className="mx-auto w-full max-w-md px-4 py-16">
      {me.error ? <ErrorAlert error={me.error} title="Could not load your tenants" /> : <Skeleton rows={2} label="Opening your tenant" />}
    </main>
  );
}
