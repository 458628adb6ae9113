// The two-way inbox of the signed-in organization.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, PageQuerySchema } from '../../schemas/common.js'
import { ConversationListSchema, ConversationMessageListSchema, ConversationMessageSchema, ConversationParamsSchema, ReadResultSchema, ReplyBodySchema } from '../../schemas/conversations.js'
import { tenantOf } from './context.js'

interface MessageRow {
  id: string
  conversationId: string
  direction: 'INBOUND' | 'OUTBOUND'
  body: string
  media: unknown
  providerMessageId: string | null
  status: string | null
  fromNumber: string
  toNumber: string
  readAt: Date | null
  createdAt: Date
}

const messageView = (m: MessageRow) => ({
  ...m,
  media: Array.isArray(m.media) ? m.media as Array<{ url: string, contentType: string | null }> : [],
  readAt: m.readAt?.toISOString() ?? null,
  createdAt: m.createdAt.toISOString()
})

const conversationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['conversations']
  const security = [{ bearerAuth: [] }]

  app.get('/api/conversations', {
    config: { permission: 'conversations.read' },
    schema: { tags, security, querystring: PageQuerySchema, response: { 200: ConversationListSchema, ...errorResponses(400, 401, 403) } }
  }, async (request) => {
    const page = await app.conversations.list(tenantOf(request).db, request.query)
    return {
      conversations: page.conversations.map((c) => ({
        id: c.id, member: c.member, lastMessageAt: c.lastMessageAt.toISOString(), lastMessagePreview: c.lastMessagePreview, unreadCount: c.unreadCount
      })),
      nextCursor: page.nextCursor
    }
  })

  app.get('/api/conversations/:id/messages', {
    config: { permission: 'conversations.read' },
    schema: { tags, security, params: ConversationParamsSchema, querystring: PageQuerySchema, response: { 200: ConversationMessageListSchema, ...errorResponses(400, 401, 403, 404) } }
  }, async (request) => {
    const page = await app.conversations.messages(tenantOf(request).db, request.params.id, request.query)
    return { messages: page.messages.map(messageView), nextCursor: page.nextCursor }
  })

  app.post('/api/conversations/:id/messages', {
    config: { permission: 'conversations.reply' },
    schema: { tags, security, params: ConversationParamsSchema, body: ReplyBodySchema, response: { 201: ConversationMessageSchema, ...errorResponses(400, 401, 402, 403, 404, 409, 502) } }
  }, async (request, reply) => {
    const { db, tenant } = tenantOf(request)
    const message = await app.conversations.reply(db, tenant, request.params.id, request.body.text)
    return await reply.status(201).send(messageView(message))
  })

  app.post('/api/conversations/:id/read', {
    config: { permission: 'conversations.reply' },
    schema: { tags, security, params: ConversationParamsSchema, response: { 200: ReadResultSchema, ...errorResponses(401, 403, 404) } }
  }, async (request) => {
    const conversation = await app.conversations.markRead(tenantOf(request).db, request.params.id)
    return { id: conversation.id, unreadCount: conversation.unreadCount }
  })
}

export default conversationRoutes
