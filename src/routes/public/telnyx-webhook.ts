// POST /webhooks/telnyx: the raw body goes to the Telnyx pipeline, which verifies it before anything
// is parsed or written; 200 is answered only once the event is committed (or deliberately ignored),
// so Telnyx retries failures.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { TelnyxWebhookAckSchema } from '../../schemas/webhooks.js'

const BODY_LIMIT = 1024 * 1024

const telnyxWebhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Encapsulated: only this route sees the body as the exact string Telnyx signed.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => { done(null, body) })

  app.post('/webhooks/telnyx', {
    config: { permission: 'public' },
    bodyLimit: BODY_LIMIT,
    schema: { tags: ['webhooks'], response: { 200: TelnyxWebhookAckSchema, ...errorResponses(400, 401, 413, 415) } }
  }, async (request) => ({ received: true, outcome: await app.telnyxWebhooks.handle(request.body, request.headers) }))
}

export default telnyxWebhookRoutes
