// The operator API: tenants, the reconciler and the tenant pool.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { PoolStatsSchema, ReconcileReportSchema, TenantListQuerySchema, TenantListSchema, TenantParamsSchema, TenantSummarySchema } from '../../schemas/platform.js'
import { ERRORS } from '../../errors.js'

const platformRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ bearerAuth: [] }]
  const summary = (t: { id: string, name: string, status: string, subscriptionStatus: string, schemaVersion: string, server: { name: string }, databaseName: string, primaryPhoneNumber: string | null, createdAt: Date, lastAccessedAt: Date | null }) => ({
    id: t.id,
    name: t.name,
    status: t.status,
    subscriptionStatus: t.subscriptionStatus,
    schemaVersion: t.schemaVersion,
    server: t.server.name,
    databaseName: t.databaseName,
    primaryPhoneNumber: t.primaryPhoneNumber,
    createdAt: t.createdAt.toISOString(),
    lastAccessedAt: t.lastAccessedAt?.toISOString() ?? null
  })

  app.get('/api/platform/tenants', {
    config: { permission: 'operator' },
    schema: {
      tags: ['platform'],
      security,
      querystring: TenantListQuerySchema,
      response: { 200: TenantListSchema, ...errorResponses(401, 403) }
    }
  }, async (request) => {
    const page = await app.tenants.list(request.query)
    return { tenants: page.tenants.map(summary), nextCursor: page.nextCursor }
  })

  app.get('/api/platform/tenants/:id', {
    config: { permission: 'operator' },
    schema: { tags: ['platform'], security, params: TenantParamsSchema, response: { 200: TenantSummarySchema, ...errorResponses(401, 403, 404) } }
  }, async (request) => {
    const tenant = await app.tenants.find(request.params.id)
    if (tenant === null) throw new ERRORS.TenantNotFound(request.params.id)
    return summary(tenant)
  })

  app.post('/api/platform/reconcile', {
    config: { permission: 'operator' },
    schema: { tags: ['platform'], security, response: { 200: ReconcileReportSchema, ...errorResponses(401, 403) } }
  }, async () => await app.reconciler.run())

  app.get('/api/platform/pool', {
    config: { permission: 'operator' },
    schema: { tags: ['platform'], security, response: { 200: PoolStatsSchema, ...errorResponses(401, 403) } }
  }, async () => app.pool.stats())
}

export default platformRoutes
