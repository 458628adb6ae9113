// Sign-up, login, token refresh and logout.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import rateLimit from '@fastify/rate-limit'
import { IdempotencyHeadersSchema, LoginBodySchema, RefreshBodySchema, RegisterBodySchema, TenantSelectionSchema, TokenPairSchema } from '../../schemas/auth.js'
import { errorResponses, NoContentSchema } from '../../schemas/common.js'
import { MfaRequiredSchema } from '../../schemas/team.js'

const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // A per-IP ceiling on every public auth route, counted in the registry so it holds across processes;
  // sign-in attempts are limited per email and IP as well.
  await app.register(rateLimit, app.publicRateLimit(app.config.protection.ratePerMinute))

  app.post('/api/auth/register', {
    config: { permission: 'public' },
    schema: {
      tags: ['auth'],
      body: RegisterBodySchema,
      headers: IdempotencyHeadersSchema,
      response: { 201: TokenPairSchema, ...errorResponses(400, 409, 422, 429, 500) }
    }
  }, async (request, reply) => {
    const tokens = await app.provisioning.register(request.body, { idempotencyKey: request.headers['idempotency-key'] })
    return await reply.status(201).send(tokens)
  })

  app.post('/api/auth/login', {
    config: { permission: 'public' },
    schema: {
      tags: ['auth'],
      body: LoginBodySchema,
      response: { 200: TokenPairSchema, 409: TenantSelectionSchema, ...errorResponses(400, 403, 429), 401: MfaRequiredSchema }
    }
  }, async (request) => await app.auth.login(request.body, request.ip))

  app.post('/api/auth/refresh', {
    config: { permission: 'public' },
    schema: { tags: ['auth'], body: RefreshBodySchema, response: { 200: TokenPairSchema, ...errorResponses(400, 401, 429) } }
  }, async (request) => await app.auth.refresh(request.body.refreshToken))

  app.post('/api/auth/logout', {
    config: { permission: 'public' },
    schema: { tags: ['auth'], body: RefreshBodySchema, response: { 204: NoContentSchema, ...errorResponses(400, 401, 429) } }
  }, async (request, reply) => {
    await app.auth.logout(request.body.refreshToken)
    return await reply.status(204).send(null)
  })
}

export default authRoutes
