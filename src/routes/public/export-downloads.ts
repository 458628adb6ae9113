// The download of a finished export. The link is the credential: no session, so it opens from
// anywhere until it expires.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../../schemas/common.js'
import { DownloadQuerySchema, ExportParamsSchema } from '../../schemas/account.js'

const exportDownloadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/downloads/exports/:id', {
    config: { permission: 'public' },
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

export default exportDownloadRoutes
