// Broadcasts: create (202, sending happens in the worker), list, counts by recipient status, cancel.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from './context.js'
import { errorResponses, IdParamsSchema, PageQuerySchema } from '../../schemas/common.js'
import { BroadcastAcceptedSchema, BroadcastRequestSchema, CancelResultSchema, MessageDetailSchema, MessagePageSchema } from '../../schemas/messages.js'

const common = { tags: ['messages'], security: [{ bearerAuth: [] }] }

const messageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/api/messages', { config: { permission: 'broadcasts.manage' }, schema: { ...common, body: BroadcastRequestSchema, response: { 202: BroadcastAcceptedSchema, ...errorResponses(400, 401, 402, 404, 409) } } },
    async (request, reply) => {
      const { tenant, adminId, db } = tenantOf(request)
      return await reply.status(202).send(await app.broadcasts.create(db, tenant, request.body, { createdById: adminId }))
    })
  app.get('/api/messages', { config: { permission: 'broadcasts.manage' }, schema: { ...common, querystring: PageQuerySchema, response: { 200: MessagePageSchema, ...errorResponses(400, 401) } } },
    async (request) => await app.broadcasts.list(tenantOf(request).db, request.query))
  app.get('/api/messages/:id', { config: { permission: 'broadcasts.manage' }, schema: { ...common, params: IdParamsSchema, response: { 200: MessageDetailSchema, ...errorResponses(401, 404) } } },
    async (request) => await app.broadcasts.get(tenantOf(request).db, request.params.id))
  app.post('/api/messages/:id/cancel', { config: { permission: 'broadcasts.manage' }, schema: { ...common, params: IdParamsSchema, response: { 200: CancelResultSchema, ...errorResponses(401, 404, 409) } } },
    async (request) => await app.broadcasts.cancel(tenantOf(request).db, request.params.id))
}

export default messageRoutes
