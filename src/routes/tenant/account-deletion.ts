// Deletion of the organization with a grace period: the owner schedules it (password entered again)
// or cancels it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from './context.js'
import { errorResponses } from '../../schemas/common.js'
import { DeletionRequestSchema, DeletionSchema } from '../../schemas/account.js'

const accountDeletionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ bearerAuth: [] }]

  app.post('/api/account/deletion', {
    config: { permission: 'account.delete' },
    schema: { tags: ['account'], security, body: DeletionRequestSchema, response: { 202: DeletionSchema, ...errorResponses(400, 401, 403, 409) } }
  }, async (request, reply) => {
    const { tenant, adminId, db } = tenantOf(request)
    return await reply.status(202).send(await app.deletions.schedule(db, tenant.id, adminId, request.body))
  })

  app.delete('/api/account/deletion', {
    config: { permission: 'account.delete' },
    schema: { tags: ['account'], security, response: { 200: DeletionSchema, ...errorResponses(401, 403, 409) } }
  }, async (request) => {
    const { tenant, adminId, db } = tenantOf(request)
    return await app.deletions.cancel(db, tenant.id, adminId)
  })
}

export default accountDeletionRoutes
