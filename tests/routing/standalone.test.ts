import { defineCoreSuite } from "./core-suite";
import { startRedis } from "../../routing/test-support/redis-server";

defineCoreSuite("standalone Redis", async () => {
  const redis = await startRedis();
  return { target: { url: redis.url }, stop: () => redis.stop() };
});
