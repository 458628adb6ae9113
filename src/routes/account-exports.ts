// Data exports: the owner asks for one (202), follows it, and downloads it through a signed link.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { claimsOf, tenantDb } from '../plugins/app/auth.js'
import { errorResponses } from '../schemas/common.js'
import { DownloadQuerySchema, ExportParamsSchema, ExportSchema } from '../schemas/account.js'

const accountExportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate)
  app.addHook('preHandler', app.attachTenantDb)
  const security = [{ bearerAuth: [] }]

  app.post('/api/account/exports', {
    schema: { tags: ['account'], security, response: { 202: ExportSchema, ...errorResponses(401, 403, 409) } }
  }, async (request, reply) => {
    const { tenantId, adminId } = claimsOf(request)
    return await reply.status(202).send(await app.exports.request(tenantDb(request), tenantId, adminId))
  })

  app.get('/api/account/exports/:id', {
    schema: { tags: ['account'], security, params: ExportParamsSchema, response: { 200: ExportSchema, ...errorResponses(401, 403, 404) } }
  }, async (request) => await app.exports.get(tenantDb(request), claimsOf(request).tenantId, request.params.id))
}

/** The link is the credential: no session, so it opens from anywhere until it expires. */
export const exportDownloadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/downloads/exports/:id', {
    schema: {
      tags: ['account'],
      params: ExportParamsSchema,
      querystring: DownloadQuerySchema,
      response: { 200: Type.Unknown({ description: 'The archive (application/gzip, a tar)' }), ...errorResponses(400, 410) }
    }
  }, async (request, reply) => {
    const { tenant, expires, signature } = request.query
    const file = await app.exports.download({ tenantId: tenant, exportId: request.params.id, expires }, signature)
    return await reply.type('application/gzip').header('content-disposition', `attachment; filename="${file.fileName}"`).send(file.body)
  })
}

export default accountExportRoutes
