// The person invited reads the invitation (a GET that changes nothing) and accepts it; the token is the
// proof. (Admins manage invitations in the tenant context, src/routes/tenant/invitations.ts.)
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { TokenPairSchema } from '../../schemas/auth.js'
import { AcceptBodySchema, InvitationPreviewSchema, TokenParamsSchema } from '../../schemas/team.js'

const tags = ['team']

const invitationRoutes: FastifyPluginAsyncTypebox = async (app) => {
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
