// Recurring messages (cron or weekly:SUN@09:30 in a time zone); the worker fires them.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from './context.js'
import { createRecurringService } from '../../messaging/campaigns/recurring-service.js'
import { errorResponses, IdParamsSchema, NoContentSchema } from '../../schemas/common.js'
import { RecurringCreateSchema, RecurringListSchema, RecurringSchema, RecurringUpdateSchema } from '../../schemas/recurring.js'

const common = { tags: ['recurring messages'], security: [{ bearerAuth: [] }] }

const recurringRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = (request: Parameters<typeof tenantOf>[0]) => {
    const { db, tenant } = tenantOf(request)
    return createRecurringService(db, tenant.timezone)
  }

  app.get('/api/recurring-messages', { config: { permission: 'broadcasts.manage' }, schema: { ...common, response: { 200: RecurringListSchema, ...errorResponses(401) } } },
    async (request) => await service(request).list())
  app.get('/api/recurring-messages/:id', { config: { permission: 'broadcasts.manage' }, schema: { ...common, params: IdParamsSchema, response: { 200: RecurringSchema, ...errorResponses(401, 404) } } },
    async (request) => await service(request).get(request.params.id))
  app.post('/api/recurring-messages', { config: { permission: 'broadcasts.manage' }, schema: { ...common, body: RecurringCreateSchema, response: { 201: RecurringSchema, ...errorResponses(400, 401) } } },
    async (request, reply) => await reply.status(201).send(await service(request).create(request.body)))
  app.patch('/api/recurring-messages/:id', { config: { permission: 'broadcasts.manage' }, schema: { ...common, params: IdParamsSchema, body: RecurringUpdateSchema, response: { 200: RecurringSchema, ...errorResponses(400, 401, 404) } } },
    async (request) => await service(request).update(request.params.id, request.body))
  app.delete('/api/recurring-messages/:id', { config: { permission: 'broadcasts.manage' }, schema: { ...common, params: IdParamsSchema, response: { 204: NoContentSchema, ...errorResponses(401, 404) } } },
    async (request, reply) => { await service(request).remove(request.params.id); return await reply.status(204).send(null) })
}

export default recurringRoutes
