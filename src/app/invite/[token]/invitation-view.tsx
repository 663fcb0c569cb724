"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { signOut } from "next-auth/react";

import { ROLE_HELP, ROLE_LABELS } from "~/components/tenant/tenant-context";
import { Button, LinkButton } from "~/components/ui/button";
import { errorCodeOf, ErrorAlert } from "~/components/ui/errors";
import { formatDateTime } from "~/components/ui/format";
import { Alert, Skeleton } from "~/components/ui/layout";
import { useTRPC } from "~/trpc/react";

export function InvitationView({
  token,
  signedIn,
  signedInEmail,
}: {
  token: string;
  signedIn: boolean;
  signedInEmail: string | null;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const invitation = useQuery(trpc.invitation.getByToken.queryOptions({ token }));
  const accept = useMutation(
    trpc.invitation.accept.mutationOptions({
      onSuccess: async (result) => {
        await queryClient.invalidateQueries({ queryKey: trpc.me.pathKey() });
        router.push(`/t/${encodeURIComponent(result.tenant.slug)}`);
      },
    }),
  );
  const here = `/invite/${encodeURIComponent(token)}`;

  if (invitation.isPending) return <Skeleton rows={3} label="Loading invitation" />;
  if (invitation.error) {
    return (
      <>
        <h1 className="text-xl font-semibold">Invitation not found</h1>
        <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
          {errorCodeOf(invitation.error) === "NOT_FOUND"
            ? "This link is not valid. Check that you copied all of it, or ask for a new invitation."
            : null}
        </p>
        {errorCodeOf(invitation.error) !== "NOT_FOUND" ? <ErrorAlert error={invitation.error} /> : null}
      </>
    );
  }

  const inv = invitation.data;
  // The server says why this user cannot accept (same codes `accept` would throw).
  const wrongEmail =
    signedIn &&
    (inv.problem?.code === "INVITATION_EMAIL_MISMATCH" ||
      (signedInEmail !== null && signedInEmail.toLowerCase() !== inv.email.toLowerCase()));
  return (
    <>
      <h1 className="text-xl font-semibold">Join {inv.tenant.name}</h1>
      <dl className="mt-4 space-y-2 text-sm">
        <div className="flex justify-between gap-4">
          <dt className="text-slate-500 dark:text-slate-400">Tenant</dt>
          <dd className="font-medium">{inv.tenant.name}</dd>
        </div>
        <div className="flex justify-between gap-4">
          <dt className="text-slate-500 dark:text-slate-400">Role</dt>
          <dd className="font-medium">{ROLE_LABELS[inv.role]}</dd>
        </div>
        <div className="flex justify-between gap-4">
          <dt className="text-slate-500 dark:text-slate-400">For</dt>
          <dd className="font-medium">{inv.email}</dd>
        </div>
        <div className="flex justify-between gap-4">
          <dt className="text-slate-500 dark:text-slate-400">Expires</dt>
          <dd>{formatDateTime(inv.expiresAt)}</dd>
        </div>
      </dl>
      <p className="mt-3 text-xs text-slate-500 dark:text-slate-400">{ROLE_HELP[inv.role]}</p>

      <div className="mt-6 space-y-3">
        {inv.status === "expired" ? (
          <Alert tone="warning" title="This invitation has expired">
            Invitations are valid for 7 days. Ask an admin of {inv.tenant.name} for a new one.
          </Alert>
        ) : inv.status === "accepted" ? (
          <Alert tone="info" title="This invitation has already been used">
            Each link works once. If it was you, the tenant is in your tenant list.
            <div className="mt-3">
              <LinkButton href="/" variant="secondary" size="sm">
                Go to my tenants
              </LinkButton>
            </div>
          </Alert>
        ) : inv.status === "revoked" ? (
          <Alert tone="warning" title="This invitation was revoked">
            Ask an admin of {inv.tenant.name} for a new one.
          </Alert>
        ) : !signedIn ? (
          <>
            <p className="text-sm text-slate-600 dark:text-slate-400">
              Sign in as <strong>{inv.email}</strong> to accept.
            </p>
            <Button className="w-full" onClick={() => router.push(`/signin?callbackUrl=${encodeURIComponent(here)}`)}>
              Sign in to accept
            </Button>
          </>
        ) : wrongEmail ? (
          <Alert tone="warning" title="Signed in with a different email">
            {inv.problem?.message ?? (
              <>
                This invitation is for <strong>{inv.email}</strong>, but you are signed in as{" "}
                <strong>{signedInEmail}</strong>. Sign in with that address to accept it.
              </>
            )}
            <div className="mt-3">
              <Button size="sm" variant="secondary" onClick={() => void signOut({ callbackUrl: `/signin?callbackUrl=${encodeURIComponent(here)}` })}>
                Sign out and switch account
              </Button>
            </div>
          </Alert>
        ) : inv.problem ? (
          <Alert tone="warning" title="This invitation cannot be accepted">
            {inv.problem.message}
          </Alert>
        ) : (
          <>
            {accept.error ? <ErrorAlert error={accept.error} title="Could not accept the invitation" /> : null}
            <Button className="w-full" loading={accept.isPending} onClick={() => accept.mutate({ token })}>
              Accept invitation
            </Button>
          </>
        )}
      </div>
    </>
  );
}
