// Operator API: delete an organization now (verified hard delete) and read a deletion's report.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { DeletionReportSchema } from '../../schemas/account.js'
import { TenantParamsSchema } from '../../schemas/backups.js'

const platformDeletionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ bearerAuth: [] }]

  app.delete('/api/platform/tenants/:id', {
    config: { permission: 'operator' },
    schema: { tags: ['platform'], security, params: TenantParamsSchema, response: { 200: DeletionReportSchema, ...errorResponses(401, 403, 404) } }
  }, async (request) => await app.hardDelete.hardDelete(request.params.id, { requestedBy: 'operator', reason: 'deleted by an operator' }))

  app.get('/api/platform/deletions/:id', {
    config: { permission: 'operator' },
    schema: { tags: ['platform'], security, params: TenantParamsSchema, response: { 200: DeletionReportSchema, ...errorResponses(401, 403, 404) } }
  }, async (request) => await app.hardDelete.report(request.params.id))
}

export default platformDeletionRoutes
