// Authentication for tenant routes: verify the access JWT (HS256 only, issuer, audience, expiry),
// resolve the tenant and refuse suspended or deleted ones, then lease the tenant's database client
// for the request and give it back when the response is sent or the request is aborted.
import fp from 'fastify-plugin'
import jwt from '@fastify/jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createAuthService, type AccessClaims, type AuthService } from '../../auth/auth-service.js'
import { ERRORS } from '../../errors.js'
import type { TenantRecord } from '../../registry/tenant-directory.js'
import type { TenantLease, TenantPrismaClient } from '../../tenancy/tenant-pool.js'

export const JWT_ISSUER = 'church-sms'
export const JWT_AUDIENCE = 'church-sms-api'

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    attachTenantDb: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  interface FastifyRequest {
    claims: AccessClaims | null
    tenant: TenantRecord | null
    tenantLease: TenantLease<TenantPrismaClient> | null
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
  app.decorateRequest('tenantLease', null)

  const touched = new Map<string, number>()
  const touch = (tenantId: string): void => {
    const last = touched.get(tenantId) ?? 0
    if (Date.now() - last < TOUCH_INTERVAL_MS) return
    touched.set(tenantId, Date.now())
    app.registry.tenant.update({ where: { id: tenantId }, data: { lastAccessedAt: new Date() } })
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
    if (tenant.status === 'DELETED' || tenant.status === 'DELETION_SCHEDULED') throw new ERRORS.TenantDeleted()
    if (tenant.status !== 'ACTIVE') throw new ERRORS.TenantNotReady()
    request.claims = claims
    request.tenant = tenant
    request.log = request.log.child({ tenantId: tenant.id })
    touch(tenant.id)
  })

  app.decorate('attachTenantDb', async (request: FastifyRequest) => {
    if (request.tenant === null) throw new ERRORS.Unauthorized('Not authenticated')
    const lease = await app.pool.acquire(request.tenant.id)
    // A client that went away while we waited for room gets no response, so onResponse would never
    // give the lease back (onRequestAbort already ran, with nothing to release).
    if (request.raw.aborted || request.raw.socket?.destroyed === true) {
      lease.release()
      throw new ERRORS.ServiceUnavailable('The client went away')
    }
    request.tenantLease = lease
  })

  const release = async (request: FastifyRequest): Promise<void> => {
    request.tenantLease?.release()
    request.tenantLease = null
  }
  app.addHook('onResponse', release)
  app.addHook('onRequestAbort', release)
  app.addHook('onTimeout', release)
}

function logTouchFailure (app: FastifyInstance, error: unknown): void {
  app.log.warn({ err: error }, 'could not record tenant access time')
}

/** The tenant database of an authenticated request. */
export function tenantDb (request: FastifyRequest): TenantPrismaClient {
  if (request.tenantLease === null) throw new ERRORS.Unauthorized('Not authenticated')
  return request.tenantLease.client
}

export function claimsOf (request: FastifyRequest): AccessClaims & { tenant: TenantRecord } {
  if (request.claims === null || request.tenant === null) throw new ERRORS.Unauthorized('Not authenticated')
  return { ...request.claims, tenant: request.tenant }
}

export default fp(authPlugin, { name: 'auth', dependencies: ['tenancy', 'rate-limits'] })
