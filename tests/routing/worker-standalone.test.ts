/** The routing worker suite against a standalone Redis (AOF on). See fixtures/worker-suite.ts. */
import { workerRoutingSuite } from "./fixtures/worker-suite";

workerRoutingSuite("workers routing through a standalone Redis", {});
