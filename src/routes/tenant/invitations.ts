// Invitations, managed by admins and owners: list, invite, resend and revoke. (The person invited reads
// and accepts an invitation through the public context, src/routes/public/invitations.ts.)
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, NoContentSchema } from '../../schemas/common.js'
import { IdParamsSchema, InvitationBodySchema, InvitationListSchema, InvitationSchema } from '../../schemas/team.js'
import { tenantOf } from './context.js'

const invitationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const common = { tags: ['team'], security: [{ bearerAuth: [] }] }
  const config = { permission: 'invitations.manage' as const }

  app.get('/api/invitations', { config, schema: { ...common, response: { 200: InvitationListSchema, ...errorResponses(401, 403) } } },
    async (request) => ({ invitations: await app.invitations.list(tenantOf(request).tenant.id) }))

  app.post('/api/invitations', {
    config, schema: { ...common, body: InvitationBodySchema, response: { 201: InvitationSchema, ...errorResponses(400, 401, 403, 409, 502) } }
  }, async (request, reply) => {
    const scope = tenantOf(request)
    return await reply.status(201).send(await app.invitations.create(scope.db, scope.tenant, scope, request.body))
  })

  app.post('/api/invitations/:id/resend', {
    config, schema: { ...common, params: IdParamsSchema, response: { 200: InvitationSchema, ...errorResponses(401, 403, 404, 409, 502) } }
  }, async (request) => {
    const scope = tenantOf(request)
    return await app.invitations.resend(scope.tenant, scope, request.params.id)
  })

  app.delete('/api/invitations/:id', {
    config, schema: { ...common, params: IdParamsSchema, response: { 204: NoContentSchema, ...errorResponses(401, 403, 404, 409) } }
  }, async (request, reply) => {
    const scope = tenantOf(request)
    await app.invitations.revoke(scope.tenant.id, scope, request.params.id)
    return await reply.status(204).send(null)
  })
}

export default invitationRoutes
