import { RedirectToSignIn } from "~/components/shell/redirect-to-sign-in";
import { TopBar } from "~/components/shell/top-bar";
import { getServerAuthSession } from "~/server/auth";

/**
 * Every page under this group needs a signed-in user. Without a session nothing of the app
 * renders; the browser is sent to /signin and comes back to the same URL afterwards.
 * (The API checks again on every call; this only spares empty pages.)
 */
export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const session = await getServerAuthSession();
  if (!session?.user) return <RedirectToSignIn />;
  return (
    <div className="flex min-h-screen flex-col">
      <TopBar />
      {children}
    </div>
  );
}
