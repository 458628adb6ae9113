// Small statistics and table helpers shared by the benchmarks.

/** Nearest-rank percentile (p in 0..100) of the given samples; NaN when empty. */
export function percentile (samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number
}

export const median = (samples: readonly number[]): number => percentile(samples, 50)

export interface Summary { n: number, min: number, p50: number, p90: number, p99: number, max: number, mean: number }

export function summarize (samples: readonly number[]): Summary {
  const n = samples.length
  const mean = n === 0 ? Number.NaN : samples.reduce((a, b) => a + b, 0) / n
  return {
    n,
    min: n === 0 ? Number.NaN : Math.min(...samples),
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    max: n === 0 ? Number.NaN : Math.max(...samples),
    mean
  }
}

/** Milliseconds since `start` (from performance.now()). */
export const since = (start: number): number => performance.now() - start

export function fmt (value: number | string | undefined, digits = 1): string {
  if (value === undefined) return ''
  if (typeof value === 'string') return value
  if (!Number.isFinite(value)) return '-'
  return Number.isInteger(value) ? String(value) : value.toFixed(digits)
}

export type Cell = string | number | undefined

/** Prints rows as an aligned text table: numbers right-aligned, text left-aligned. */
export function printTable (title: string, headers: string[], rows: Cell[][], digits = 1): void {
  const text = rows.map((row) => row.map((cell) => fmt(cell, digits)))
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => (row[i] ?? '').length)))
  const numeric = headers.map((_, i) => rows.every((row) => typeof row[i] === 'number' || row[i] === undefined))
  const line = (cells: string[], header = false): string => cells
    .map((cell, i) => (numeric[i] === true && !header ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
    .join('  ')
    .trimEnd()
  console.log(`\n${title}`)
  console.log(line(headers, true))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of text) console.log(line(row))
}

/** "ok" / "MISSED" against a goal, for the verdict columns. */
export function verdict (ok: boolean): string {
  return ok ? 'ok' : 'MISSED'
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; results in index order. */
export async function mapLimit<T> (count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count)
  let next = 0
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++
      results[i] = await task(i)
    }
  })
  await Promise.all(workers)
  return results
}

export function log (message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}
