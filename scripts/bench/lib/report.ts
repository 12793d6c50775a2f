/** One row of a benchmark's markdown table; `meets` is null where there is no target. */
export type Row = [metric: string, target: string, measured: string, meets: boolean | null]

/** The markdown table the benchmarks print and docs/benchmarks.md quotes. */
export function table (rows: Row[]): string {
  const lines = ['| Metric | Target | Measured | Meets target |', '|---|---|---|---|']
  for (const [metric, target, measured, meets] of rows) {
    lines.push(`| ${metric} | ${target} | ${measured} | ${meets === null ? '—' : meets ? 'yes' : '**no**'} |`)
  }
  return lines.join('\n')
}
