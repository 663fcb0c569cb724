/** Helpers shared by the benchmark trial processes. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export function latencyStats(samples: Float64Array): { p50_ns: number; p99_ns: number; rounds: number } {
  const s = samples.slice(Math.floor(samples.length / 10)).sort(); // drop warm-up
  return { p50_ns: Math.round(percentile(s, 0.5)), p99_ns: Math.round(percentile(s, 0.99)), rounds: s.length };
}

export const now = (): number => Number(process.hrtime.bigint());

export function emit(result: unknown): void {
  process.stdout.write(JSON.stringify(result) + "\n");
}
