import { TenantShell } from "~/components/tenant/tenant-shell";

export default async function TenantLayout({
  children,
  params,
}: {
  children: React.ReactNode;
  params: Promise<{ tenantSlug: string }>;
}) {
  const { tenantSlug } = await params;
  return <TenantShell slug={decodeURIComponent(tenantSlug)}>{children}</TenantShell>;
}
