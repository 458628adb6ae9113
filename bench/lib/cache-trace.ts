// Tenant request traces and what a cache of a given size could do with them: Belady's offline
// optimum (evict the entry used again furthest in the future), the best static choice (keep the
// trace's most frequent tenants: the bound of any online policy when requests are independent draws,
// as Zipf traces are) and plain LRU, for comparison with the tenant pool.

/** Deterministic PRNG (mulberry32), so every run draws the same tenant sequence. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Chooser = () => number

export function uniform (n: number, random: () => number): Chooser {
  return () => Math.floor(random() * n)
}

/** Rank k (0-based) is chosen with probability proportional to 1 / (k + 1)^s. */
export function zipf (n: number, s: number, random: () => number): Chooser {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let k = 0; k < n; k++) { sum += 1 / Math.pow(k + 1, s); cdf[k] = sum }
  return () => {
    const u = random() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cdf[mid] as number) < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** Hits of trace[from..] when the cache starts empty at trace[0] (the warm-up counts, its hits do not). */
export interface HitRatio { hits: number, requests: number, ratio: number }
const ratio = (hits: number, requests: number): HitRatio => ({ hits, requests, ratio: requests === 0 ? Number.NaN : hits / requests })

export function belady (trace: readonly number[], size: number, from = 0): HitRatio {
  const nextUse = new Array<number>(trace.length)
  const last = new Map<number, number>()
  for (let i = trace.length - 1; i >= 0; i--) {
    nextUse[i] = last.get(trace[i] as number) ?? Number.POSITIVE_INFINITY
    last.set(trace[i] as number, i)
  }
  const cached = new Map<number, number>() // key -> its next use
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = trace[i] as number
    if (cached.has(key)) {
      if (i >= from) hits++
    } else if (cached.size >= size) {
      // O(size) scan: traces here are thousands long and caches hundreds, so no heap is needed.
      let victim = -1
      let furthest = -1
      for (const [k, next] of cached) if (next > furthest) { furthest = next; victim = k }
      cached.delete(victim)
    }
    cached.set(key, nextUse[i] as number)
  }
  return ratio(hits, trace.length - from)
}

/** Keeping the `size` tenants the measured part requests most (known only afterwards). */
export function staticOptimum (trace: readonly number[], size: number, from = 0): HitRatio {
  const counts = new Map<number, number>()
  for (const key of trace.slice(from)) counts.set(key, (counts.get(key) ?? 0) + 1)
  const top = [...counts.values()].sort((a, b) => b - a).slice(0, size)
  // Each kept tenant misses once, on its first request, unless the warm-up already brought it in.
  const hits = top.reduce((sum, n) => sum + n - 1, 0)
  return ratio(hits, trace.length - from)
}

export function lru (trace: readonly number[], size: number, from = 0): HitRatio {
  const cached = new Set<number>()
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = trace[i] as number
    if (cached.delete(key)) {
      if (i >= from) hits++
    } else if (cached.size >= size) {
      cached.delete(cached.values().next().value as number)
    }
    cached.add(key)
  }
  return ratio(hits, trace.length - from)
}
