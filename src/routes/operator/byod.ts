// Operator API for a tenant's own database (BYOD): set it (validated, then the tenant moves there) and test it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { DatabaseSetResultSchema, DatabaseSetSchema, DatabaseTestBodySchema, DatabaseTestResultSchema } from '../../schemas/byod.js'
import { TenantIdParamsSchema } from '../../schemas/servers.js'
import { OPERATOR_API_ACTOR } from './servers.js'

const platformByodRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const common = { tags: ['platform'], security: [{ bearerAuth: [] }] }

  app.post('/api/platform/tenants/:id/database', {
    config: { permission: 'operator' },
    schema: { ...common, params: TenantIdParamsSchema, body: DatabaseSetSchema, response: { 200: DatabaseSetResultSchema, ...errorResponses(400, 401, 403, 404, 409) } }
  }, async (request) => await app.byod.setDatabase(request.params.id, request.body.url, { actor: OPERATOR_API_ACTOR, connectionBudget: request.body.connectionBudget }))

  app.post('/api/platform/tenants/:id/database/test', {
    config: { permission: 'operator' },
    schema: { ...common, params: TenantIdParamsSchema, body: DatabaseTestBodySchema, response: { 200: DatabaseTestResultSchema, ...errorResponses(400, 401, 403, 404) } }
  }, async (request) => await app.byod.testDatabase(request.params.id, { actor: OPERATOR_API_ACTOR, url: request.body?.url }))
}

export default platformByodRoutes
