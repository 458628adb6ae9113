// app.metrics for every plugin to report through, the HTTP latency of every request, and
// GET /metrics (Prometheus text) in the operator context, behind the operator token. What other parts count themselves (the
// pool, webhook counters, queue sizes) is read when Prometheus scrapes.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { createMetrics, type Metrics } from '../../metrics/metrics.js'
import { DELIVERY_RETRY_QUEUE, SEND_QUEUE } from '../../messaging/sending/send-queue.js'
import { errorResponses } from '../../schemas/common.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

async function metricsPlugin (app: FastifyInstance): Promise<void> {
  const metrics = createMetrics()
  app.decorate('metrics', metrics)
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the URL: ids in paths would make a series per member.
    metrics.httpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
  })
}

/** GET /metrics; registered after the parts it reads. */
export async function metricsRoutes (app: FastifyInstance): Promise<void> {
  app.metrics.setSources({
    pool: () => app.pool.stats(),
    webhooks: () => app.webhookStats,
    queueDepth: async () => ({
      [SEND_QUEUE]: await app.boss.getQueueSize(SEND_QUEUE),
      [DELIVERY_RETRY_QUEUE]: await app.boss.getQueueSize(DELIVERY_RETRY_QUEUE)
    })
  })
  // Registered in the operator context (src/routes/operator/), whose hook checks the operator token.
  app.get('/metrics', {
    config: { permission: 'operator' },
    schema: { tags: ['ops'], security: [{ bearerAuth: [] }], produces: ['text/plain'], response: { 200: Type.String(), ...errorResponses(401, 403) } }
  }, async (_request, reply) => {
    void reply.type(app.metrics.contentType)
    return await app.metrics.render()
  })
}

export default fp(metricsPlugin, { name: 'metrics' })
