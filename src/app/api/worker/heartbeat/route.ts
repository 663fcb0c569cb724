/** POST /api/worker/heartbeat — liveness, node status and the current settings version. */
import { HeartbeatRequestSchema, type HeartbeatRequest } from "~/server/contracts/worker";
import { jsonResponse, nodeCredential, readJson, workerRoute } from "~/server/api/worker-http";
import { assertNodeCredentialShape, authenticateNode, heartbeatByCredential } from "~/server/services/node-join";

export const dynamic = "force-dynamic";

/**
 * Authentication and the liveness write are one statement (`heartbeatByCredential`), so the body
 * is validated first. The order of errors is kept: a bad credential answers 401 even when the
 * body is invalid too (the credential is checked before the validation error is thrown).
 */
export const POST = workerRoute(async (req) => {
  const credential = nodeCredential(req.headers);
  assertNodeCredentialShape(credential);
  let body: HeartbeatRequest;
  try {
    body = await readJson(req, HeartbeatRequestSchema);
  } catch (e) {
    await authenticateNode(credential);
    throw e;
  }
  return jsonResponse(200, await heartbeatByCredential(credential, body));
});
