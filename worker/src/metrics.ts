/**
 * Prometheus metrics of one worker, on its own Registry (never the global one: tests run several
 * workers in one process, and libraries must not leak series into ours).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { WorkerState } from "./state";

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly state = new Gauge({ name: "commy_worker_state", help: "1 for the current state of the worker", labelNames: ["state"], registers: [this.registry] });
  readonly sessions = new Gauge({ name: "commy_worker_sessions", help: "Connected client sessions", registers: [this.registry] });
  readonly attachments = new Gauge({ name: "commy_worker_attachments", help: "Live attachments", labelNames: ["side"], registers: [this.registry] });
  readonly opens = new Counter({ name: "commy_worker_opens_total", help: "OPEN requests by result code", labelNames: ["result"], registers: [this.registry] });
  readonly openSeconds = new Histogram({
    name: "commy_worker_open_seconds",
    help: "Time to serve an OPEN (authorization, policies, mapping)",
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly frames = new Counter({ name: "commy_worker_frames_total", help: "Frames received by type", labelNames: ["type"], registers: [this.registry] });
  readonly protocolErrors = new Counter({ name: "commy_worker_protocol_errors_total", help: "Malformed frames by code", labelNames: ["code"], registers: [this.registry] });
  readonly controlPlaneRequests = new Histogram({
    name: "commy_worker_control_plane_request_seconds",
    help: "Control-plane requests by endpoint and outcome",
    labelNames: ["endpoint", "outcome"],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly heartbeatFailures = new Counter({ name: "commy_worker_heartbeat_failures_total", help: "Heartbeats that failed", registers: [this.registry] });
  readonly settingsVersion = new Gauge({ name: "commy_worker_settings_version", help: "Applied tenant worker-settings version", registers: [this.registry] });
  readonly catalogueFiles = new Gauge({ name: "commy_worker_catalogue_files", help: "Shared files in the tenant catalogue", registers: [this.registry] });

  // Cross-node routing (worker/src/routing-bridge.ts)
  readonly redisUp = new Gauge({ name: "commy_worker_redis_up", help: "1 while the routing Redis is reachable", registers: [this.registry] });
  readonly routeRecords = new Counter({ name: "commy_worker_route_records_total", help: "Records forwarded to (out) and applied from (in) Redis", labelNames: ["direction"], registers: [this.registry] });
  readonly routeLatency = new Histogram({
    name: "commy_worker_route_delivery_seconds",
    help: "Producer flush to apply on this node, for records applied from Redis",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly routeTransport = new Gauge({ name: "commy_worker_route_transport", help: "1 for the transport currently selected per file", labelNames: ["file", "transport"], registers: [this.registry] });
  readonly routeRate = new Gauge({ name: "commy_worker_route_rate", help: "Messages or bytes per second over the last report interval, per file and transport", labelNames: ["file", "transport", "unit"], registers: [this.registry] });
  readonly routeLatencyUs = new Gauge({ name: "commy_worker_route_latency_us", help: "Delivery latency quantiles over the last report interval, per file and transport (µs)", labelNames: ["file", "transport", "quantile"], registers: [this.registry] });
  readonly routeBacklog = new Gauge({ name: "commy_worker_route_backlog", help: "Records waiting for Redis (durable files while Redis is unreachable)", labelNames: ["file"], registers: [this.registry] });
  readonly routePending = new Gauge({ name: "commy_worker_route_pending", help: "Frames delivered to this node's group and not yet acknowledged", labelNames: ["file"], registers: [this.registry] });
  readonly routeDeadLetters = new Gauge({ name: "commy_worker_route_dead_letters", help: "Entries in the file's dead-letter stream", labelNames: ["file"], registers: [this.registry] });
  readonly routeLagMs = new Gauge({ name: "commy_worker_route_lag_ms", help: "Age of the newest applied frame when it was applied (ms)", labelNames: ["file"], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "commy_worker_" });
  }

  setState(state: WorkerState): void {
    for (const s of ["starting", "running", "draining", "stopped", "failed"] as const) this.state.set({ state: s }, s === state ? 1 : 0);
  }
}
