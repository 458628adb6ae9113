// Security headers (helmet) and load shedding (under-pressure): when the event loop lags or memory runs
// short, requests are answered 503 OVERLOADED with Retry-After instead of queueing until they time out.
// Webhooks are shed last (carriers retry, but each retry is more load) and health checks never.
import fp from 'fastify-plugin'
import fastifyHelmet from '@fastify/helmet'
import helmet from 'helmet'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import { ERRORS } from '../../errors.js'

export const RETRY_AFTER_SECONDS = 5
export const NEVER_SHED = new Set(['/health', '/ready', '/metrics'])

type Measure = 'eventLoopDelay' | 'heapUsedBytes' | 'rssBytes' | string

/** Whether a request under pressure is refused: webhooks only past the factor, health checks never. */
export function shouldShed (url: string, measure: Measure, value: number | undefined, limits: Config['protection']): boolean {
  if (NEVER_SHED.has(url)) return false
  if (!url.startsWith('/webhooks/') || value === undefined) return true
  const limit = measure === 'eventLoopDelay' ? limits.maxEventLoopDelayMs : measure === 'heapUsedBytes' ? limits.maxHeapBytes : limits.maxRssBytes
  return value > limit * limits.webhookPressureFactor
}

async function protectionPlugin (app: FastifyInstance, opts: { config: Config }): Promise<void> {
  const limits = opts.config.protection
  // The API serves JSON only: nothing may be framed, sniffed or load scripts (the docs UI sets its own CSP).
  // @fastify/helmet applied globally builds a new helmet middleware, parsing the CSP again, for every
  // request; the headers never change, so helmet's middleware is built once and applied here. The
  // plugin stays registered (not global) for its per-route `helmet` options and reply.helmet().
  await app.register(fastifyHelmet, { global: false })
  const securityHeaders = helmet()
  app.addHook('onRequest', (request, reply, done) => { securityHeaders(request.raw, reply.raw, (err?: unknown) => { done(err as Error | undefined) }) })
  await app.register(underPressure, {
    maxEventLoopDelay: limits.maxEventLoopDelayMs,
    maxHeapUsedBytes: limits.maxHeapBytes,
    maxRssBytes: limits.maxRssBytes,
    retryAfter: RETRY_AFTER_SECONDS,
    pressureHandler: async (request: FastifyRequest, reply, type: Measure, value: number | undefined) => {
      if (!shouldShed(request.routeOptions.url ?? request.url, type, value, limits)) return
      request.log.warn({ measure: type, value }, 'request shed under pressure')
      void reply.header('retry-after', String(RETRY_AFTER_SECONDS))
      throw new ERRORS.Overloaded()
    }
  })
}

export default fp(protectionPlugin, { name: 'protection' })
