// POST /webhooks/telnyx: the raw body is verified with the SDK before anything is parsed or written;
// 200 is answered only once the event is committed (or deliberately ignored), so Telnyx retries failures.
// Also GET /api/platform/webhooks, the operators' view of the webhook counters.
import { operatorGuard } from '../auth/operator-token.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../schemas/common.js'
import { ERRORS } from '../errors.js'
import { cleanStrings } from '../util/storable-text.js'
import { parseTelnyxEvent, WebhookSignatureError, type TelnyxEvent } from '../messaging/telnyx/webhook.js'

const BODY_LIMIT = 1024 * 1024
const WebhookAckSchema = Type.Object({ received: Type.Boolean(), outcome: Type.String() })
const WebhookStatsSchema = Type.Record(Type.String(), Type.Integer())

const telnyxWebhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Encapsulated: only this route sees the body as the exact string Telnyx signed.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => { done(null, body) })

  app.post('/webhooks/telnyx', {
    bodyLimit: BODY_LIMIT,
    schema: { tags: ['webhooks'], response: { 200: WebhookAckSchema, ...errorResponses(400, 401, 413, 415) } }
  }, async (request) => {
    const stats = app.webhookStats
    stats.received++
    // The carrier's text may hold what PostgreSQL cannot store (NUL, broken surrogates): cleaned, not refused.
    const event = cleanStrings(await verified(request.body, request.headers))
    const parsed = parseTelnyxEvent(event)
    if (!parsed.ok) {
      if (parsed.reason.startsWith('unsupported event_type')) {
        stats.ignored++
        return { received: true, outcome: 'ignored' }
      }
      stats.invalid++
      request.log.warn({ eventId: event.data.id, reason: parsed.reason }, 'invalid telnyx webhook')
      throw new ERRORS.InvalidWebhookPayload(parsed.reason)
    }
    const outcome = await app.inbound.handle(parsed.event)
    return { received: true, outcome }
  })

  async function verified (body: unknown, headers: Record<string, string | string[] | undefined>): Promise<TelnyxEvent> {
    const verifier = app.telnyx.verifier
    if (verifier === undefined || typeof body !== 'string') {
      app.webhookStats.rejected++
      throw new ERRORS.InvalidWebhookSignature()
    }
    try {
      return await verifier.verify(body, headers)
    } catch (error) {
      if (!(error instanceof WebhookSignatureError)) throw error
      // The verifier checks the signature first: an error without an SDK cause, or a JSON syntax
      // error, comes from a correctly signed body that is not a Telnyx event.
      if (error.cause === undefined || error.cause instanceof SyntaxError) {
        app.webhookStats.invalid++
        throw new ERRORS.InvalidWebhookPayload(error.message)
      }
      app.webhookStats.rejected++
      throw new ERRORS.InvalidWebhookSignature()
    }
  }
}

export const webhookStatsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', operatorGuard(app.config.platformAdminToken))

  app.get('/api/platform/webhooks', {
    schema: {
      tags: ['platform'],
      security: [{ bearerAuth: [] }],
      response: { 200: Type.Object({ telnyx: WebhookStatsSchema, routeCacheSize: Type.Integer() }), ...errorResponses(401, 403) }
    }
  }, async () => ({ telnyx: { ...app.webhookStats }, routeCacheSize: app.phoneRoutes.size() }))
}

export default telnyxWebhookRoutes
