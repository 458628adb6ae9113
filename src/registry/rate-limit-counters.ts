// Fixed-window request counters in the registry, shared by every API process. Each hit is one
// INSERT ... ON CONFLICT DO UPDATE: PostgreSQL serialises concurrent hits on the key's row, so a burst
// of N concurrent attempts sees the counts 1..N and exactly `max` of them are allowed.
import type { RegistryClient } from './registry-client.js'

export interface CounterHit { count: number, ttlMs: number }

export interface RateLimitCounters {
  /** Counts one hit on each key and returns the counts (in key order) and the time left in each window. */
  hit: (keys: string[], windowMs: number) => Promise<CounterHit[]>
  /** Takes one hit back (a successful attempt that should not count against its key). */
  undo: (key: string) => Promise<void>
  reset: (key: string) => Promise<void>
}

type Registry = Pick<RegistryClient, '$queryRaw' | '$executeRaw'>

export function createRateLimitCounters (registry: Registry): RateLimitCounters {
  // Expired rows count for nothing (a hit restarts them); they are swept at most once a minute per process.
  let sweptAt = 0
  async function sweep (): Promise<void> {
    if (Date.now() - sweptAt < 60_000) return
    sweptAt = Date.now()
    await registry.$executeRaw`DELETE FROM "RateLimitCounter" WHERE "resetAt" < now() - interval '1 minute'`
  }

  return {
    async hit (keys, windowMs) {
      const distinct = [...new Set(keys)]
      const rows = await registry.$queryRaw<Array<{ key: string, count: number, ttl: number }>>`
        INSERT INTO "RateLimitCounter" AS c (key, count, "resetAt")
        SELECT k, 1, now() + make_interval(secs => ${windowMs / 1000}::float8) FROM unnest(${distinct}::text[]) AS k
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN c."resetAt" <= now() THEN 1 ELSE c.count + 1 END,
          "resetAt" = CASE WHEN c."resetAt" <= now() THEN EXCLUDED."resetAt" ELSE c."resetAt" END
        RETURNING key, count, greatest(0, (extract(epoch FROM c."resetAt" - now()) * 1000))::float8 AS ttl`
      await sweep()
      const byKey = new Map(rows.map((row) => [row.key, { count: row.count, ttlMs: Math.ceil(row.ttl) }]))
      return keys.map((key) => byKey.get(key) ?? { count: 1, ttlMs: windowMs })
    },
    async undo (key) {
      await registry.$executeRaw`UPDATE "RateLimitCounter" SET count = greatest(0, count - 1) WHERE key = ${key}`
    },
    async reset (key) {
      await registry.$executeRaw`DELETE FROM "RateLimitCounter" WHERE key = ${key}`
    }
  }
}
