import type { Metadata } from "next";

import { CreateTenantForm } from "./create-tenant-form";

export const metadata: Metadata = { title: "Create a tenant" };

export default async function NewTenantPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const first = (await searchParams).first === "1";
  return (
    <main className="mx-auto w-full max-w-xl px-4 py-10 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">
        {first ? "Create your first tenant" : "Create a tenant"}
      </h1>
      <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">
        A tenant is your organization in Commy. It owns members, API keys, worker nodes and shared
        files, and is isolated from every other tenant. You become its owner.
      </p>
      <div className="mt-6 rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800">
        <CreateTenantForm />
      </div>
    </main>
  );
}
