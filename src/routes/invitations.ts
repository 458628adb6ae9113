// Invitations: admins and owners invite, resend and revoke (tenant routes); the person invited reads
// the invitation (a GET that changes nothing) and accepts it (public routes, the token is the proof).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../schemas/common.js'
import { TokenPairSchema } from '../schemas/auth.js'
import {
  AcceptBodySchema, IdParamsSchema, InvitationBodySchema, InvitationListSchema, InvitationPreviewSchema, InvitationSchema, TokenParamsSchema
} from '../schemas/team.js'
import { claimsOf, tenantDb } from '../plugins/app/auth.js'

const tags = ['team']

const invitationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tenantRoutes: FastifyPluginAsyncTypebox = async (tenant) => {
    tenant.addHook('onRequest', app.authenticate)
    tenant.addHook('preHandler', app.attachTenantDb)
    const common = { tags, security: [{ bearerAuth: [] }] }
    const config = { permission: 'invitations.manage' as const }

    tenant.get('/api/invitations', { config, schema: { ...common, response: { 200: InvitationListSchema, ...errorResponses(401, 403) } } },
      async (request) => ({ invitations: await app.invitations.list(claimsOf(request).tenantId) }))

    tenant.post('/api/invitations', {
      config, schema: { ...common, body: InvitationBodySchema, response: { 201: InvitationSchema, ...errorResponses(400, 401, 403, 409, 502) } }
    }, async (request, reply) => {
      const claims = claimsOf(request)
      return await reply.status(201).send(await app.invitations.create(tenantDb(request), claims.tenant, claims, request.body))
    })

    tenant.post('/api/invitations/:id/resend', {
      config, schema: { ...common, params: IdParamsSchema, response: { 200: InvitationSchema, ...errorResponses(401, 403, 404, 409, 502) } }
    }, async (request) => await app.invitations.resend(claimsOf(request).tenant, claimsOf(request), request.params.id))

    tenant.delete('/api/invitations/:id', {
      config, schema: { ...common, params: IdParamsSchema, response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409) } }
    }, async (request, reply) => {
      await app.invitations.revoke(claimsOf(request).tenantId, claimsOf(request), request.params.id)
      return await reply.status(204).send(null)
    })
  }
  await app.register(tenantRoutes)

  app.get('/api/invitations/:token', {
    config: { permission: 'public' },
    schema: { tags, params: TokenParamsSchema, response: { 200: InvitationPreviewSchema, ...errorResponses(400, 410) } }
  }, async (request) => await app.invitations.preview(request.params.token))

  app.post('/api/invitations/:token/accept', {
    config: { permission: 'public' },
    schema: { tags, params: TokenParamsSchema, body: AcceptBodySchema, response: { 201: TokenPairSchema, ...errorResponses(400, 401, 409, 410) } }
  }, async (request, reply) => {
    const accepted = await app.invitations.accept(request.params.token, request.body)
    return await reply.status(201).send(await app.auth.tokensFor(accepted.tenantId, accepted.adminId, { signedIn: true }))
  })
}

export default invitationRoutes
