// The store behind @fastify/rate-limit on public routes: the registry's shared counters, so the limit
// holds across every API process and under a concurrent burst (each hit is counted atomically).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ERRORS } from '../../errors.js'
import { createRateLimitCounters, type RateLimitCounters } from '../../registry/rate-limit-counters.js'

type Callback = (error: Error | null, result?: { current: number, ttl: number }) => void
interface RouteInfo { routeInfo?: { method?: string | string[], url?: string } }

declare module 'fastify' {
  interface FastifyInstance {
    rateLimitCounters: RateLimitCounters
    /** @fastify/rate-limit options for a public route group: the shared store and our error model. */
    publicRateLimit: (max: number) => Record<string, unknown>
  }
}

export function sharedRateLimitStore (counters: RateLimitCounters): new (options: RouteInfo) => unknown {
  return class SharedRateLimitStore {
    readonly scope: string
    constructor (options: RouteInfo) {
      const route = options.routeInfo
      this.scope = route?.url === undefined ? 'http' : `http:${String(route.method)}:${route.url}`
    }

    incr (key: string, callback: Callback, timeWindow: number): void {
      counters.hit([`${this.scope}:${key}`], timeWindow).then(
        ([hit]) => { callback(null, { current: hit?.count ?? 1, ttl: hit?.ttlMs ?? timeWindow }) },
        () => { callback(new ERRORS.ServiceUnavailable('Rate limits cannot be checked right now')) }
      )
    }

    child (options: RouteInfo): SharedRateLimitStore {
      return new SharedRateLimitStore(options)
    }
  }
}

async function rateLimitsPlugin (app: FastifyInstance): Promise<void> {
  const counters = createRateLimitCounters(app.registry)
  app.decorate('rateLimitCounters', counters)
  const Store = sharedRateLimitStore(counters)
  app.decorate('publicRateLimit', (max: number) => ({
    max,
    timeWindow: '1 minute',
    store: Store,
    errorResponseBuilder: (_request: unknown, context: { after: string }) => new ERRORS.TooManyRequests(context.after)
  }))
}

export default fp(rateLimitsPlugin, { name: 'rate-limits', dependencies: ['registry'] })
