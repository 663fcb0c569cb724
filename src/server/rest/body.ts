import { AppError } from "~/server/errors";

/** Largest request body the REST API reads. Shared-file declarations are far smaller. */
export const MAX_BODY_BYTES = 64 * 1024;

function tooLarge(limit: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `The request body is larger than ${limit} bytes`);
}

/**
 * Reads and parses a JSON body, refusing more than `limit` bytes with 413 BEFORE parsing:
 * first by the declared Content-Length (nothing is read), then by counting bytes as they
 * arrive (a missing or lying Content-Length, chunked uploads), cancelling the stream as soon
 * as the limit is passed so an oversized upload is not buffered.
 */
export async function readJsonBody(req: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type.trim())) {
    throw new AppError("BAD_REQUEST", "Send the body as JSON with Content-Type: application/json");
  }
  if (!req.body) throw new AppError("BAD_REQUEST", "A JSON request body is required");

  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  if (total === 0) throw new AppError("BAD_REQUEST", "A JSON request body is required");
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new AppError("BAD_REQUEST", "The request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new AppError("BAD_REQUEST", `The request body is not valid JSON: ${(e as Error).message}`);
  }
}
