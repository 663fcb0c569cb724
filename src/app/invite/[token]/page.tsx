import type { Metadata } from "next";

import { Logo } from "~/components/logo";
import { getServerAuthSession } from "~/server/auth";
import { InvitationView } from "./invitation-view";

export const metadata: Metadata = { title: "Invitation" };

/** `/invite/[token]`: the single-use link from an invitation. Works signed in or out. */
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const session = await getServerAuthSession();
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-12">
      <div className="w-full max-w-md">
        <div className="mb-6 flex justify-center">
          <Logo className="size-10" />
        </div>
        <div className="rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800">
          <InvitationView token={decodeURIComponent(token)} signedInEmail={session?.user?.email ?? null} signedIn={!!session?.user} />
        </div>
      </div>
    </main>
  );
}
