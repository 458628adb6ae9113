// Enforces the permission table (src/auth/permissions.ts) on every route: a route that declares no
// access in its config cannot be registered, and a declared operation is checked against the caller's
// role by the tenant context (src/routes/tenant/context.ts), right after authentication and before the
// body is read or a tenant connection is leased. A route that declares an operation but was not checked
// (registered outside the tenant context) fails closed.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify'
import { allows, isRouteAccess, PERMISSIONS, type Permission, type RouteAccess } from '../../auth/permissions.js'
import { ERRORS } from '../../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route: an operation of the permission table, 'public' or 'operator'. */
    permission?: RouteAccess
  }
  interface FastifyInstance {
    /** "METHOD /url" -> the access the route declared (read by tests and the docs). */
    routeAccess: Map<string, RouteAccess>
  }
  interface FastifyRequest {
    /** Set by checkPermission once the caller's role was checked against the route's operation. */
    permissionChecked: boolean
  }
}

const isOperation = (access: RouteAccess | undefined): access is Permission => access !== undefined && access !== 'public' && access !== 'operator'

/** The tenant context's hook, after authentication: the caller's role against the route's operation. */
export async function checkPermission (request: FastifyRequest): Promise<void> {
  const permission = request.routeOptions.config.permission
  // The tenant context registers only routes that declare an operation (see its onRoute hook).
  if (!isOperation(permission)) throw new ERRORS.PermissionDenied('This route declares no operation')
  const { claims } = request
  // A tenant route that forgot to authenticate fails closed.
  if (claims === null) throw new ERRORS.Unauthorized('Not authenticated')
  if (claims.mfaEnrollment === true && permission !== 'account.self') throw new ERRORS.MfaEnrollmentRequired()
  if (!allows(claims.role, permission)) throw new ERRORS.PermissionDenied(`This needs the ${PERMISSIONS[permission]} role (${permission})`)
  request.permissionChecked = true
}

/** Route-level, so after every context hook: an operation nobody checked is refused. */
const ensureChecked: onRequestHookHandler = async function ensureChecked (request) {
  if (!request.permissionChecked) throw new ERRORS.PermissionDenied('This route\'s permission was not checked')
}

const asArray = <T>(value: T | T[] | undefined): T[] => value === undefined ? [] : Array.isArray(value) ? value : [value]

async function permissionsPlugin (app: FastifyInstance): Promise<void> {
  const routeAccess = new Map<string, RouteAccess>()
  app.decorate('routeAccess', routeAccess)
  app.decorateRequest('permissionChecked', false)
  app.addHook('onRoute', (route: RouteOptions) => {
    const access = (route.config as { permission?: unknown } | undefined)?.permission
    const methods = asArray(route.method)
    if (!isRouteAccess(access)) {
      throw new Error(`${methods.join(',')} ${route.url} declares no valid permission: add config: { permission } from src/auth/permissions.ts`)
    }
    for (const method of methods) routeAccess.set(`${method} ${route.url}`, access)
    if (!isOperation(access)) return
    route.onRequest = [...asArray(route.onRequest), ensureChecked]
  })
}

export default fp(permissionsPlugin, { name: 'permissions' })
