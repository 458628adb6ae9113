// Deletion of the organization with a grace period: the owner schedules it (password entered again)
// or cancels it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { claimsOf, tenantDb } from '../plugins/app/auth.js'
import { errorResponses } from '../schemas/common.js'
import { DeletionRequestSchema, DeletionSchema } from '../schemas/account.js'

const accountDeletionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate)
  app.addHook('preHandler', app.attachTenantDb)
  const security = [{ bearerAuth: [] }]

  app.post('/api/account/deletion', {
    schema: { tags: ['account'], security, body: DeletionRequestSchema, response: { 202: DeletionSchema, ...errorResponses(400, 401, 403, 409) } }
  }, async (request, reply) => {
    const { tenantId, adminId } = claimsOf(request)
    return await reply.status(202).send(await app.deletions.schedule(tenantDb(request), tenantId, adminId, request.body))
  })

  app.delete('/api/account/deletion', {
    schema: { tags: ['account'], security, response: { 200: DeletionSchema, ...errorResponses(401, 403, 409) } }
  }, async (request) => {
    const { tenantId, adminId } = claimsOf(request)
    return await app.deletions.cancel(tenantDb(request), tenantId, adminId)
  })
}

export default accountDeletionRoutes
