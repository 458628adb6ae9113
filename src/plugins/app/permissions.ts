// Enforces the permission table (src/auth/permissions.ts) on every route: a route that declares no
// access in its config cannot be registered, and a declared operation is checked against the caller's
// role after authentication and before the body is read or a tenant connection is leased.
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
}

function checker (permission: Permission): onRequestHookHandler {
  return async function checkPermission (request: FastifyRequest) {
    const { claims } = request
    // A tenant route that forgot to authenticate fails closed.
    if (claims === null) throw new ERRORS.Unauthorized('Not authenticated')
    if (claims.mfaEnrollment === true && permission !== 'account.self') throw new ERRORS.MfaEnrollmentRequired()
    if (!allows(claims.role, permission)) throw new ERRORS.PermissionDenied(`This needs the ${PERMISSIONS[permission]} role (${permission})`)
  }
}

const asArray = <T>(value: T | T[] | undefined): T[] => value === undefined ? [] : Array.isArray(value) ? value : [value]

async function permissionsPlugin (app: FastifyInstance): Promise<void> {
  const routeAccess = new Map<string, RouteAccess>()
  app.decorate('routeAccess', routeAccess)
  app.addHook('onRoute', (route: RouteOptions) => {
    const access = (route.config as { permission?: unknown } | undefined)?.permission
    const methods = asArray(route.method)
    if (!isRouteAccess(access)) {
      throw new Error(`${methods.join(',')} ${route.url} declares no valid permission: add config: { permission } from src/auth/permissions.ts`)
    }
    for (const method of methods) routeAccess.set(`${method} ${route.url}`, access)
    if (access === 'public' || access === 'operator') return
    // Route-level hooks run after the context's own, so authentication has already happened.
    route.onRequest = [...asArray(route.onRequest), checker(access)]
  })
}

export default fp(permissionsPlugin, { name: 'permissions' })
