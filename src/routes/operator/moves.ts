// Operator API for moving a tenant to another server (guarded by the operator context).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../../schemas/common.js'
import { MoveRecordSchema, MoveReportSchema, MoveRequestSchema, TenantIdParamsSchema } from '../../schemas/servers.js'
import { OPERATOR_API_ACTOR } from './servers.js'

const platformMoveRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const common = { tags: ['platform'], security: [{ bearerAuth: [] }] }

  app.post('/api/platform/tenants/:id/move', {
    config: { permission: 'operator' },
    schema: { ...common, params: TenantIdParamsSchema, body: MoveRequestSchema, response: { 200: MoveReportSchema, ...errorResponses(400, 401, 403, 404, 409) } }
  }, async (request) => await app.moves.move(request.params.id, request.body.to, { actor: OPERATOR_API_ACTOR, method: request.body.method }))

  app.get('/api/platform/tenants/:id/moves', {
    config: { permission: 'operator' },
    schema: { ...common, params: TenantIdParamsSchema, response: { 200: Type.Object({ moves: Type.Array(MoveRecordSchema) }), ...errorResponses(401, 403) } }
  }, async (request) => {
    const rows = await app.moves.history(request.params.id)
    return { moves: rows.map((m) => ({ ...m, dropOldAfter: m.dropOldAfter?.toISOString() ?? null, createdAt: m.createdAt.toISOString() })) }
  })
}

export default platformMoveRoutes
