/** The routing worker suite against a local 3-master Redis Cluster. See fixtures/worker-suite.ts. */
import { workerRoutingSuite } from "./fixtures/worker-suite";

workerRoutingSuite("workers routing through a 3-master Redis Cluster", { cluster: true });
