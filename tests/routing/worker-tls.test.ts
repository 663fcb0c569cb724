/**
 * The routing worker suite over TLS: Redis serves only rediss:// with a certificate signed by a
 * CA made for this test. The workers learn the URL and the CA from the control plane
 * (GET /api/worker/routing) and trust exactly that CA. See fixtures/worker-suite.ts.
 */
import { workerRoutingSuite } from "./fixtures/worker-suite";

workerRoutingSuite("workers routing through Redis over TLS (rediss://, test CA)", { tls: true });
