// The signed-in admin, their organization and its tenant status.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../schemas/common.js'
import { claimsOf, tenantDb } from '../plugins/app/auth.js'
import { ERRORS } from '../errors.js'

const MeSchema = Type.Object({
  admin: Type.Object({ id: Type.String(), email: Type.String(), firstName: Type.String(), lastName: Type.String(), role: Type.String() }),
  church: Type.Object({ id: Type.String(), name: Type.String() }),
  tenant: Type.Object({
    id: Type.String(),
    status: Type.String(),
    subscriptionStatus: Type.String(),
    schemaVersion: Type.String(),
    primaryPhoneNumber: Type.Union([Type.String(), Type.Null()]),
    timezone: Type.String()
  })
})

const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.authenticate)
  app.addHook('preHandler', app.attachTenantDb)

  app.get('/api/me', {
    config: { permission: 'account.self' },
    schema: { tags: ['account'], security: [{ bearerAuth: [] }], response: { 200: MeSchema, ...errorResponses(401, 403) } }
  }, async (request) => {
    const { adminId, tenant } = claimsOf(request)
    const admin = await tenantDb(request).admin.findUnique({ where: { id: adminId } })
    if (admin === null) throw new ERRORS.Unauthorized('This admin no longer exists')
    return {
      admin: { id: admin.id, email: admin.email, firstName: admin.firstName, lastName: admin.lastName, role: admin.role },
      church: { id: tenant.churchId, name: tenant.name },
      tenant: {
        id: tenant.id,
        status: tenant.status,
        subscriptionStatus: tenant.subscriptionStatus,
        schemaVersion: tenant.schemaVersion,
        primaryPhoneNumber: tenant.primaryPhoneNumber,
        timezone: tenant.timezone
      }
    }
  })
}

export default meRoutes
