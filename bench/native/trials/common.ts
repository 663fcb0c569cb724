/** Helpers shared by the benchmark trial processes. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export function latencyStats(samples: Float64Array): { p50_ns: number; p99_ns: number; rounds: number } {
  const s = samples.slice(Math.floor(samples.length / 10)).sort(); // drop warm-up
  return { p50_ns: Math.round(percentile(s, 0.5)), p99_ns: Math.round(percentile(s, 0.99)), rounds: s.length };
}

/** Nanoseconds (a double). performance.now() is the cheapest high-resolution
 * clock in Node (~90 ns a call on the 2-vCPU VM, vs ~110–180 ns for
 * Number(process.hrtime.bigint())); each latency sample contains about one
 * clock call, so this is part of what a sample measures (the C baselines'
 * clock_gettime costs ~20 ns). */
export const now = (): number => performance.now() * 1e6;

export function emit(result: unknown): void {
  process.stdout.write(JSON.stringify(result) + "\n");
}
