// The organization's team: list admins, change a role (owners), remove someone (never the last owner).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, NoContentSchema } from '../../schemas/common.js'
import { AdminListSchema, AdminSchema, IdParamsSchema, RoleBodySchema } from '../../schemas/team.js'
import { tenantOf } from './context.js'
import { ERRORS } from '../../errors.js'

const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const common = { tags: ['team'], security: [{ bearerAuth: [] }] }

  app.get('/api/admins', {
    config: { permission: 'admins.read' },
    schema: { ...common, response: { 200: AdminListSchema, ...errorResponses(401, 403) } }
  }, async (request) => ({ admins: await app.team.list(tenantOf(request).db) }))

  app.patch('/api/admins/:id', {
    config: { permission: 'roles.manage' },
    schema: { ...common, params: IdParamsSchema, body: RoleBodySchema, response: { 200: AdminSchema, ...errorResponses(400, 401, 403, 404, 409) } }
  }, async (request) => {
    const scope = tenantOf(request)
    const updated = await app.team.changeRole(scope.db, scope, request.params.id, request.body.role)
    if (updated === undefined) throw new ERRORS.NotFound('Admin')
    return updated
  })

  app.delete('/api/admins/:id', {
    config: { permission: 'admins.remove' },
    schema: { ...common, params: IdParamsSchema, response: { 204: NoContentSchema, ...errorResponses(401, 403, 404, 409) } }
  }, async (request, reply) => {
    const scope = tenantOf(request)
    await app.team.remove(scope.db, scope.tenant.id, scope, request.params.id)
    return await reply.status(204).send(null)
  })
}

export default adminRoutes
