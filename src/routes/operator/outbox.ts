// Operators read (the operator context guards it) local mode's mail outbox (no SMTP_URL): invitations and resets to hand on by hand.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../../schemas/common.js'

const OutboxSchema = Type.Object({
  mode: Type.Union([Type.Literal('smtp'), Type.Literal('outbox')]),
  messages: Type.Array(Type.Object({ id: Type.String(), to: Type.String(), subject: Type.String(), text: Type.String(), createdAt: Type.String({ format: 'date-time' }) }))
})

const platformOutboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/platform/outbox', {
    config: { permission: 'operator' },
    schema: {
      tags: ['platform'],
      security: [{ bearerAuth: [] }],
      querystring: Type.Object({ to: Type.Optional(Type.String({ maxLength: 320 })), limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }),
      response: { 200: OutboxSchema, ...errorResponses(401, 403) }
    }
  }, async (request) => {
    const messages = await app.mailer.outbox(request.query)
    return { mode: app.mailer.mode, messages: messages.map((m) => ({ ...m, createdAt: m.createdAt.toISOString() })) }
  })
}

export default platformOutboxRoutes
