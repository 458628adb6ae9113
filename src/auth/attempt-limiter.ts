// Counts failed login attempts per key (email hash, client IP) in a sliding window held in memory.
// Bounded: the oldest keys are dropped first, so a flood of distinct keys cannot exhaust memory.

export interface AttemptLimiter {
  blocked: (key: string) => boolean
  fail: (key: string) => void
  reset: (key: string) => void
}

export function createAttemptLimiter (options: { max: number, windowMs: number, maxKeys?: number, now?: () => number }): AttemptLimiter {
  const maxKeys = options.maxKeys ?? 100_000
  const now = options.now ?? Date.now
  const failures = new Map<string, number[]>()

  const recent = (key: string): number[] => {
    const since = now() - options.windowMs
    const times = (failures.get(key) ?? []).filter((t) => t > since)
    if (times.length === 0) failures.delete(key)
    else failures.set(key, times)
    return times
  }

  return {
    blocked: (key) => recent(key).length >= options.max,
    fail (key) {
      const times = recent(key)
      times.push(now())
      failures.delete(key)
      failures.set(key, times)
      if (failures.size > maxKeys) failures.delete(failures.keys().next().value as string)
    },
    reset: (key) => { failures.delete(key) }
  }
}
