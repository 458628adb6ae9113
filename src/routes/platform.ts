// The operator API, behind the PLATFORM_ADMIN_TOKEN bearer token (disabled when it is unset).
import { operatorGuard } from '../auth/operator-token.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../schemas/common.js'
import { ERRORS } from '../errors.js'
import { TenantStatus } from '../generated/registry/enums.js'

const TenantSummarySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: Type.String(),
  subscriptionStatus: Type.String(),
  schemaVersion: Type.String(),
  server: Type.String(),
  databaseName: Type.String(),
  primaryPhoneNumber: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  lastAccessedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
})

const PoolStatsSchema = Type.Object({
  clients: Type.Integer(),
  hits: Type.Integer(),
  misses: Type.Integer(),
  evictions: Type.Integer(),
  waiters: Type.Integer(),
  openConnections: Type.Integer(),
  inFlight: Type.Integer(),
  protectedClients: Type.Integer({ description: 'Clients used more than once since they were opened: evicted only after every client on probation' }),
  servers: Type.Record(Type.String(), Type.Object({ clients: Type.Integer(), connectionCap: Type.Integer(), openConnections: Type.Integer() }))
})

const ReconcileReportSchema = Type.Object({
  rolledBack: Type.Array(Type.String()),
  orphanDatabasesDropped: Type.Array(Type.String()),
  orphanRolesDropped: Type.Array(Type.String()),
  staleTenantsRemoved: Type.Array(Type.String())
})

const platformRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', operatorGuard(app.config.platformAdminToken))

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
      querystring: Type.Object({
        status: Type.Optional(Type.Enum(TenantStatus)),
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
        cursor: Type.Optional(Type.String({ maxLength: 64 }))
      }),
      response: { 200: Type.Object({ tenants: Type.Array(TenantSummarySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(401, 403) }
    }
  }, async (request) => {
    const { status, limit, cursor } = request.query
    const rows = await app.registry.tenant.findMany({
      where: status === undefined ? {} : { status },
      include: { server: { select: { name: true } } },
      orderBy: { id: 'asc' },
      take: limit + 1,
      ...(cursor === undefined ? {} : { cursor: { id: cursor }, skip: 1 })
    })
    const page = rows.slice(0, limit)
    return { tenants: page.map(summary), nextCursor: rows.length > limit ? page.at(-1)?.id ?? null : null }
  })

  app.get('/api/platform/tenants/:id', {
    config: { permission: 'operator' },
    schema: { tags: ['platform'], security, params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 200: TenantSummarySchema, ...errorResponses(401, 403, 404) } }
  }, async (request) => {
    const tenant = await app.registry.tenant.findUnique({ where: { id: request.params.id }, include: { server: { select: { name: true } } } })
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
