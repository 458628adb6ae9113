// Data exports: the owner asks for one (202) and follows it; the archive comes through a signed link
// (src/routes/public/export-downloads.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from './context.js'
import { errorResponses } from '../../schemas/common.js'
import { ExportParamsSchema, ExportSchema } from '../../schemas/account.js'

const accountExportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ bearerAuth: [] }]

  app.post('/api/account/exports', {
    config: { permission: 'account.export' },
    schema: { tags: ['account'], security, response: { 202: ExportSchema, ...errorResponses(401, 403, 409) } }
  }, async (request, reply) => {
    const { tenant, adminId, db } = tenantOf(request)
    return await reply.status(202).send(await app.exports.request(db, tenant.id, adminId))
  })

  app.get('/api/account/exports/:id', {
    config: { permission: 'account.export' },
    schema: { tags: ['account'], security, params: ExportParamsSchema, response: { 200: ExportSchema, ...errorResponses(401, 403, 404) } }
  }, async (request) => {
    const { tenant, db } = tenantOf(request)
    return await app.exports.get(db, tenant.id, request.params.id)
  })
}

export default accountExportRoutes
