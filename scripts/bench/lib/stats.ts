/** The p-th percentile (0–100) of `values` by the nearest-rank method; NaN when empty. */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1] as number
}

/** The median of `values`. */
export const median = (values: readonly number[]): number => percentile(values, 50)

/** Rounds to `digits` decimals (for printing and the JSON line). */
export const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits

/** Bytes as MiB with two decimals. */
export const mib = (bytes: number): number => round(bytes / (1024 * 1024))
