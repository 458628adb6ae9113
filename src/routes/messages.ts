// Broadcasts: create (202, sending happens in the worker), list, counts by recipient status, cancel.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { claimsOf, tenantDb } from '../plugins/app/auth.js'
import { errorResponses, PageQuerySchema } from '../schemas/common.js'
import { IdParamsSchema } from '../schemas/members.js'
import { BroadcastAcceptedSchema, BroadcastRequestSchema, MessageDetailSchema, MessagePageSchema } from '../schemas/messages.js'

const common = { tags: ['messages'], security: [{ bearerAuth: [] }] }

const messageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate)
  app.addHook('preHandler', app.attachTenantDb)

  app.post('/api/messages', { config: { permission: 'broadcasts.manage' }, schema: { ...common, body: BroadcastRequestSchema, response: { 202: BroadcastAcceptedSchema, ...errorResponses(400, 401, 402, 404, 409) } } },
    async (request, reply) => {
      const { tenant, adminId } = claimsOf(request)
      return await reply.status(202).send(await app.broadcasts.create(tenantDb(request), tenant, request.body, { createdById: adminId }))
    })
  app.get('/api/messages', { config: { permission: 'broadcasts.manage' }, schema: { ...common, querystring: PageQuerySchema, response: { 200: MessagePageSchema, ...errorResponses(400, 401) } } },
    async (request) => await app.broadcasts.list(tenantDb(request), request.query))
  app.get('/api/messages/:id', { config: { permission: 'broadcasts.manage' }, schema: { ...common, params: IdParamsSchema, response: { 200: MessageDetailSchema, ...errorResponses(401, 404) } } },
    async (request) => await app.broadcasts.get(tenantDb(request), request.params.id))
  app.post('/api/messages/:id/cancel', { config: { permission: 'broadcasts.manage' }, schema: { ...common, params: IdParamsSchema, response: { 200: Type.Object({ id: Type.String(), status: Type.String() }), ...errorResponses(401, 404, 409) } } },
    async (request) => await app.broadcasts.cancel(tenantDb(request), request.params.id))
}

export default messageRoutes
