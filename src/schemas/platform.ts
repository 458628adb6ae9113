// The operator API: tenants, the tenant pool, the reconciler's report.
import { Type } from '@sinclair/typebox'
import { TenantStatus } from '../generated/registry/enums.js'

export const TenantSummarySchema = Type.Object({
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

export const PoolStatsSchema = Type.Object({
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

export const ReconcileReportSchema = Type.Object({
  rolledBack: Type.Array(Type.String()),
  orphanDatabasesDropped: Type.Array(Type.String()),
  orphanRolesDropped: Type.Array(Type.String()),
  staleTenantsRemoved: Type.Array(Type.String())
})

export const TenantListQuerySchema = Type.Object({
  status: Type.Optional(Type.Enum(TenantStatus)),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  cursor: Type.Optional(Type.String({ maxLength: 64 }))
})

export const TenantListSchema = Type.Object({ tenants: Type.Array(TenantSummarySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) })

export const TenantParamsSchema = Type.Object({ id: Type.String({ maxLength: 64 }) })
