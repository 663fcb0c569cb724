import { defineCoreSuite } from "./core-suite";
import { startRedisCluster } from "../../routing/test-support/redis-server";

// The same core suite against a local 3-master Redis Cluster (redis-cli --cluster create).
// Every key of one file carries the hash tag {t:<tenant>:f:<file>}, so the commit script's two
// keys share a slot; different files land on different masters.
defineCoreSuite("3-master Redis Cluster", async () => {
  const cluster = await startRedisCluster({ masters: 3 });
  return { target: { cluster: cluster.seeds }, stop: () => cluster.stop() };
});
