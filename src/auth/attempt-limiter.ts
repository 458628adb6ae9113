// Counts failed sign-ins per key (keyed email hash, client IP) over a sliding window, in the registry
// ("LoginFailure"), so that every API process enforces the same limit: a limit kept in each
// process's memory would multiply with the number of instances behind the load balancer.
import type { RegistryClient } from '../registry/registry-client.js'

export interface AttemptLimiter {
  /** True when any of the keys has reached the limit within the window. */
  blocked: (keys: string[]) => Promise<boolean>
  fail: (keys: string[]) => Promise<void>
  reset: (key: string) => Promise<void>
}

export function createAttemptLimiter (options: { registry: Pick<RegistryClient, '$queryRaw' | '$executeRaw'>, max: number, windowMs: number }): AttemptLimiter {
  const { registry, max, windowMs } = options
  // Rows older than the window count for nothing; they are swept at most once a window per process.
  let sweptAt = 0
  const since = (): Date => new Date(Date.now() - windowMs)

  async function sweep (): Promise<void> {
    if (Date.now() - sweptAt < windowMs) return
    sweptAt = Date.now()
    await registry.$executeRaw`DELETE FROM "LoginFailure" WHERE at < ${since()}`
  }

  return {
    async blocked (keys) {
      const rows = await registry.$queryRaw<Array<{ n: number }>>`
        SELECT count(*)::int AS n FROM "LoginFailure" WHERE key = ANY(${keys}) AND at > ${since()} GROUP BY key ORDER BY n DESC LIMIT 1`
      return (rows[0]?.n ?? 0) >= max
    },
    async fail (keys) {
      await registry.$executeRaw`INSERT INTO "LoginFailure" (key) SELECT unnest(${keys}::text[])`
      await sweep()
    },
    async reset (key) {
      await registry.$executeRaw`DELETE FROM "LoginFailure" WHERE key = ${key}`
    }
  }
}
