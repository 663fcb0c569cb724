import { describe, expect, it } from "vitest";
import { connectClient, createRedisClient } from "../../routing";
import { generateTestTls, startRedis } from "../../routing/test-support/redis-server";
import { defineCoreSuite } from "./core-suite";

// Debian's redis-server 7.0.15 is built with TLS: it serves `--tls-port` with a CA we generate
// here with openssl. The whole core suite runs over rediss:// with the custom CA.
defineCoreSuite("TLS (rediss:// with a test CA)", async () => {
  const tls = await generateTestTls();
  const redis = await startRedis({ tls });
  return { target: { url: redis.url, tls: { ca: tls.ca.toString() } }, stop: () => redis.stop() };
});

describe("TLS trust", () => {
  it("refuses a server whose certificate is not signed by the configured CA", async () => {
    const tls = await generateTestTls();
    const other = await generateTestTls(); // a different CA
    const redis = await startRedis({ tls });
    try {
      expect(redis.url.startsWith("rediss://")).toBe(true);
      const good = createRedisClient({ url: redis.url, tls: { ca: tls.ca } }, "admin");
      await connectClient(good);
      expect(await good.call("PING")).toBe("PONG");
      good.disconnect();
      const bad = createRedisClient({ url: redis.url, tls: { ca: other.ca } }, "admin");
      await expect(connectClient(bad)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
      bad.disconnect();
    } finally {
      await redis.stop();
    }
  });
});
