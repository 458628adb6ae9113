// What the tenant context gives every route registered in it: the access token checked
// (app.authenticate), the route's permission checked against the caller's role, a lease on the tenant's database for the request, given back when the response
// is sent, the request times out or the client leaves, and tenantOf(request) for the handler.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ERRORS } from '../../errors.js'
import { isRouteAccess } from '../../auth/permissions.js'
import { checkPermission } from '../../plugins/app/permissions.js'
import type { TenantRecord } from '../../registry/tenant-directory.js'
import type { TenantLease, TenantPrismaClient } from '../../tenancy/tenant-pool.js'

declare module 'fastify' {
  interface FastifyRequest {
    tenantLease: TenantLease<TenantPrismaClient> | null
  }
  interface FastifyContextConfig {
    /** false for a route that only touches the registry: it takes no tenant database lease. */
    tenantDb?: boolean
  }
}

/** The signed-in admin's organization, as a tenant route's handler sees it. */
export interface TenantScope {
  tenant: TenantRecord
  adminId: string
  role: string
  /** The tenant's database, leased for this request. */
  readonly db: TenantPrismaClient
}

export function tenantOf (request: FastifyRequest): TenantScope {
  const { claims, tenant, tenantLease: lease } = request
  if (claims === null || tenant === null) throw new ERRORS.Unauthorized('Not authenticated')
  return {
    tenant,
    adminId: claims.adminId,
    role: claims.role,
    get db () {
      if (lease === null) throw new Error(`${request.routeOptions.url ?? 'this route'} takes no tenant database lease (config.tenantDb is false)`)
      return lease.client
    }
  }
}

export function useTenantContext (app: FastifyInstance): void {
  app.decorateRequest('tenantLease', null)
  // Every route here declares an operation of the permission table (src/auth/permissions.ts) ...
  app.addHook('onRoute', (route) => {
    const access: unknown = route.config?.permission
    if (!isRouteAccess(access) || access === 'public' || access === 'operator') {
      throw new Error(`${String(route.method)} ${route.url} is a tenant route: declare an operation of src/auth/permissions.ts in config.permission`)
    }
  })
  app.addHook('onRequest', app.authenticate)
  // ... checked against the caller's role once authenticated, before the body or a lease.
  app.addHook('onRequest', checkPermission)

  app.addHook('preHandler', async (request) => {
    if (request.routeOptions.config.tenantDb === false) return
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
