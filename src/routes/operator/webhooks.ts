// GET /api/platform/webhooks: the operators' view of the Telnyx webhook counters.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { WebhookStatsSchema } from '../../schemas/webhooks.js'

const webhookStatsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/platform/webhooks', {
    config: { permission: 'operator' },
    schema: {
      tags: ['platform'],
      security: [{ bearerAuth: [] }],
      response: { 200: WebhookStatsSchema, ...errorResponses(401, 403) }
    }
  }, async () => ({ telnyx: { ...app.webhookStats }, routeCacheSize: app.phoneRoutes.size() }))
}

export default webhookStatsRoutes
