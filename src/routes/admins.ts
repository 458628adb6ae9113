// The organization's team: list admins, change a role (owners), remove someone (never the last owner).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../schemas/common.js'
import { AdminListSchema, AdminSchema, IdParamsSchema, RoleBodySchema } from '../schemas/team.js'
import { claimsOf, tenantDb } from '../plugins/app/auth.js'
import { ERRORS } from '../errors.js'

const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate)
  app.addHook('preHandler', app.attachTenantDb)
  const common = { tags: ['team'], security: [{ bearerAuth: [] }] }

  app.get('/api/admins', {
    config: { permission: 'admins.read' },
    schema: { ...common, response: { 200: AdminListSchema, ...errorResponses(401, 403) } }
  }, async (request) => ({ admins: await app.team.list(tenantDb(request)) }))

  app.patch('/api/admins/:id', {
    config: { permission: 'roles.manage' },
    schema: { ...common, params: IdParamsSchema, body: RoleBodySchema, response: { 200: AdminSchema, ...errorResponses(400, 401, 403, 404, 409) } }
  }, async (request) => {
    const updated = await app.team.changeRole(tenantDb(request), claimsOf(request), request.params.id, request.body.role)
    if (updated === undefined) throw new ERRORS.NotFound('Admin')
    return updated
  })

  app.delete('/api/admins/:id', {
    config: { permission: 'admins.remove' },
    schema: { ...common, params: IdParamsSchema, response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409) } }
  }, async (request, reply) => {
    const claims = claimsOf(request)
    await app.team.remove(tenantDb(request), claims.tenantId, claims, request.params.id)
    return await reply.status(204).send(null)
  })
}

export default adminRoutes
