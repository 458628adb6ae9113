// Authentication for tenant routes: verify the access JWT (HS256 only, issuer, audience, expiry),
// resolve the tenant and refuse suspended or deleted ones. The tenant route context
// (src/routes/tenant/) runs it for each of its routes, then leases the tenant's database.
import fp from 'fastify-plugin'
import jwt from '@fastify/jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createAuthService, type AccessClaims, type AuthService } from '../../auth/auth-service.js'
import { ERRORS } from '../../errors.js'
import type { TenantRecord } from '../../registry/tenant-directory.js'
import { assertWritable } from '../../tenancy/moves/write-freeze.js'

export const JWT_ISSUER = 'church-sms'
export const JWT_AUDIENCE = 'church-sms-api'

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  interface FastifyRequest {
    claims: AccessClaims | null
    tenant: TenantRecord | null
  }
}

// Tenants are touched at most this often, so lastAccessedAt costs almost nothing per request.
const TOUCH_INTERVAL_MS = 10 * 60_000

async function authPlugin (app: FastifyInstance): Promise<void> {
  const { config } = app
  await app.register(jwt, {
    secret: config.secrets.jwtSecret,
    sign: { algorithm: 'HS256', iss: JWT_ISSUER, aud: JWT_AUDIENCE, expiresIn: config.auth.accessTokenTtlSeconds },
    verify: { algorithms: ['HS256'], allowedIss: JWT_ISSUER, allowedAud: JWT_AUDIENCE, requiredClaims: ['exp', 'iss', 'aud'] }
  })
  app.decorate('auth', createAuthService({
    registry: app.registry,
    counters: app.rateLimitCounters,
    directory: app.directory,
    pool: app.pool,
    signAccessToken: (claims) => app.jwt.sign({ ...claims }),
    emailHashKey: config.secrets.emailHashKey,
    settings: config.auth,
    log: app.log
  }))
  app.decorateRequest('claims', null)
  app.decorateRequest('tenant', null)

  const touched = new Map<string, number>()
  const touch = (tenantId: string): void => {
    const last = touched.get(tenantId) ?? 0
    if (Date.now() - last < TOUCH_INTERVAL_MS) return
    touched.set(tenantId, Date.now())
    app.tenants.touch(tenantId)
      .catch((error: unknown) => { logTouchFailure(app, error) })
  }

  app.decorate('authenticate', async (request: FastifyRequest) => {
    const header = request.headers.authorization
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : undefined
    if (token === undefined || token === '') throw new ERRORS.Unauthorized('Missing bearer token')
    let claims: AccessClaims
    try {
      claims = app.jwt.verify<AccessClaims>(token)
    } catch {
      throw new ERRORS.Unauthorized('Invalid or expired access token')
    }
    if (typeof claims.tenantId !== 'string' || typeof claims.adminId !== 'string') throw new ERRORS.Unauthorized('Invalid access token')
    // A tenant that does not exist makes the token invalid; a registry that cannot answer is our
    // failure (5xx), not a reason for the client to throw its tokens away.
    const tenant = await app.directory.get(claims.tenantId).catch((error: unknown) => {
      throw (error as { code?: string }).code === 'TENANT_NOT_FOUND' ? new ERRORS.Unauthorized('Invalid access token') : error
    })
    if (tenant.status === 'SUSPENDED') throw new ERRORS.TenantSuspended()
    if (tenant.status === 'DELETED') throw new ERRORS.TenantDeleted()
    // During the grace period before deletion admins still sign in, read and export; sending is refused.
    if (tenant.status !== 'ACTIVE' && tenant.status !== 'DELETION_SCHEDULED') throw new ERRORS.TenantNotReady()
    // A move is freezing this tenant's writes: 503 with Retry-After; reads go on.
    assertWritable(tenant, request.method)
    request.claims = claims
    request.tenant = tenant
    request.log = request.log.child({ tenantId: tenant.id })
    touch(tenant.id)
  })
}

function logTouchFailure (app: FastifyInstance, error: unknown): void {
  app.log.warn({ err: error }, 'could not record tenant access time')
}

export default fp(authPlugin, { name: 'auth', dependencies: ['tenancy', 'rate-limits'] })
