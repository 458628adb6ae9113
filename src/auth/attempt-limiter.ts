// Limits sign-in attempts per key (keyed email hash, client IP) over a fixed window, in the registry's
// shared counters so that every API process enforces the same limit. The attempt is counted BEFORE the
// password is checked: counting only failures afterwards let a burst of concurrent guesses all pass the
// check before the first failure was recorded.
import type { RateLimitCounters } from '../registry/rate-limit-counters.js'

export interface AttemptLimiter {
  /** Counts an attempt on every key; false when any key is past the limit (the attempt is refused). */
  attempt: (keys: string[]) => Promise<boolean>
  /** A successful sign-in: the email's count starts over and the attempt no longer counts for the others. */
  succeeded: (keys: string[]) => Promise<void>
}

export function createAttemptLimiter (options: { counters: RateLimitCounters, max: number, windowMs: number, scope?: string }): AttemptLimiter {
  const { counters, max, windowMs } = options
  // Each use counts apart (sign-ins, password reset requests) in the one shared counter table.
  const scope = options.scope ?? 'login'
  const prefixed = (keys: string[]): string[] => keys.map((key) => `${scope}:${key}`)
  return {
    async attempt (keys) {
      const hits = await counters.hit(prefixed(keys), windowMs)
      return hits.every((hit) => hit.count <= max)
    },
    async succeeded (keys) {
      const [first, ...rest] = prefixed(keys)
      if (first !== undefined) await counters.reset(first)
      for (const key of rest) await counters.undo(key)
    }
  }
}
