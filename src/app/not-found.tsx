import Link from "next/link";

import { Logo } from "~/components/logo";

export default function NotFound() {
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="text-center">
        <Logo className="mx-auto size-10" />
        <p className="mt-6 text-sm font-semibold text-indigo-600 dark:text-indigo-400">404</p>
        <h1 className="mt-2 text-2xl font-semibold tracking-tight">Page not found</h1>
        <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">There is nothing at this address.</p>
        <Link href="/" className="mt-6 inline-block text-sm font-medium text-indigo-700 hover:underline dark:text-indigo-300">
          Go to your tenants →
        </Link>
      </div>
    </main>
  );
}
