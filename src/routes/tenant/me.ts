// The signed-in admin, their organization and its tenant status.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { MeSchema } from '../../schemas/me.js'
import { tenantOf } from './context.js'
import { ERRORS } from '../../errors.js'

const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/me', {
    config: { permission: 'account.self' },
    schema: { tags: ['account'], security: [{ bearerAuth: [] }], response: { 200: MeSchema, ...errorResponses(401, 403) } }
  }, async (request) => {
    const { adminId, tenant, db } = tenantOf(request)
    const admin = await db.admin.findUnique({ where: { id: adminId } })
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
        timezone: tenant.timezone,
        deletionScheduledFor: tenant.deletionScheduledAt?.toISOString() ?? null
      }
    }
  })
}

export default meRoutes
