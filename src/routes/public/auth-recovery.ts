// Public routes around sign-in: password reset by email, the second factor, and an organization's
// display name for branded sign-in pages.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import rateLimit from '@fastify/rate-limit'
import { errorResponses, NoContentSchema } from '../../schemas/common.js'
import { TokenPairSchema } from '../../schemas/auth.js'
import { MfaBodySchema, OrganizationPublicSchema, ResetAcceptedSchema, ResetConfirmBodySchema, ResetRequestBodySchema, SlugParamsSchema } from '../../schemas/team.js'
import { parseChallenge } from '../../auth/mfa-challenges.js'
import { ERRORS } from '../../errors.js'

const RESET_ANSWER = { message: 'If this email administers an organization, a reset link is on its way' }

const authRecoveryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(rateLimit, { max: 60, timeWindow: '1 minute' })
  const tags = ['auth']
  const config = { permission: 'public' as const }

  app.post('/api/auth/password-reset', {
    config, schema: { tags, body: ResetRequestBodySchema, response: { 202: ResetAcceptedSchema, ...errorResponses(400, 429) } }
  }, async (request, reply) => {
    await app.passwordReset.request(request.body, request.ip)
    return await reply.status(202).send(RESET_ANSWER)
  })

  app.post('/api/auth/password-reset/confirm', {
    config, schema: { tags, body: ResetConfirmBodySchema, response: { 204: NoContentSchema, ...errorResponses(400, 410, 429) } }
  }, async (request, reply) => {
    await app.passwordReset.confirm(request.body.token, request.body.password)
    return await reply.status(204).send(null)
  })

  app.post('/api/auth/mfa', {
    config, schema: { tags, body: MfaBodySchema, response: { 200: TokenPairSchema, ...errorResponses(400, 401, 429) } }
  }, async (request) => {
    const { tenantId } = parseChallenge(request.body.challenge)
    const tenant = await app.directory.get(tenantId).catch(() => null)
    if (tenant === null || tenant.status !== 'ACTIVE') throw new ERRORS.MfaChallengeInvalid()
    const adminId = await app.pool.withTenant(tenantId, async (db) => await app.twoFactor.completeChallenge(db, request.body.challenge, request.body.code))
    return await app.auth.tokensFor(tenantId, adminId, { signedIn: true })
  })

  app.get('/api/organizations/:slug', {
    config, schema: { tags: ['organizations'], params: SlugParamsSchema, response: { 200: OrganizationPublicSchema, ...errorResponses(400, 404) } }
  }, async (request) => ({ name: await app.slugs.displayName(request.params.slug) }))
}

export default authRecoveryRoutes
