/**
 * GET /api/v1/ping — the benchmark's baseline (B6): no authentication, no query, no
 * validation. Measures what Next.js itself costs per request, so the authenticated read can be
 * reported as a ratio against it.
 */
export const dynamic = "force-dynamic";

export function GET(): Response {
  return Response.json({ ok: true });
}
