// POST /webhooks/stripe: the raw body is verified with the Stripe SDK before anything is parsed or
// written; 200 is answered only once the event is committed, so Stripe retries failures. The tenants
// module drops the tenant's cached record when the change commits, so a lapsed (or restored)
// subscription applies to the next request.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { StripeWebhookAckSchema } from '../../schemas/webhooks.js'

const BODY_LIMIT = 1024 * 1024

const stripeWebhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Encapsulated: only this route sees the body as the exact string Stripe signed, and only as JSON
  // (Stripe sends nothing else; the default text/plain parser would otherwise let any body through).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => { done(null, body) })

  app.post('/webhooks/stripe', {
    config: { permission: 'public' },
    bodyLimit: BODY_LIMIT,
    schema: { tags: ['webhooks'], response: { 200: StripeWebhookAckSchema, ...errorResponses(400, 401, 413, 415) } }
  }, async (request) => {
    const signature = request.headers['stripe-signature']
    const body = typeof request.body === 'string' ? request.body : ''
    const result = await app.stripeWebhooks.handle(body, typeof signature === 'string' ? signature : undefined)
    return { received: true, status: result.status }
  })
}

export default stripeWebhookRoutes
