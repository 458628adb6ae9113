// Operator API schemas: database servers, their health, and the audit trail.
import { Type, type Static } from '@sinclair/typebox'

export const ServerHealthSchema = Type.Object({
  reachable: Type.Boolean(),
  error: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
  versionNum: Type.Optional(Type.Integer()),
  rttMs: Type.Optional(Type.Number()),
  connectionsUsed: Type.Optional(Type.Integer()),
  connectionsAllowed: Type.Optional(Type.Integer()),
  databaseCount: Type.Optional(Type.Integer()),
  sizeBytes: Type.Optional(Type.Number()),
  superuser: Type.Optional(Type.Boolean()),
  createDb: Type.Optional(Type.Boolean()),
  createRole: Type.Optional(Type.Boolean()),
  replication: Type.Optional(Type.Boolean()),
  walLevel: Type.Optional(Type.String()),
  ownsEmptyDatabase: Type.Optional(Type.Boolean())
})

export const ServerKindSchema = Type.Union([Type.Literal('SHARED'), Type.Literal('DEDICATED'), Type.Literal('BYOD')])

export const ServerSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  host: Type.String(),
  port: Type.Integer(),
  kind: ServerKindSchema,
  status: Type.Union([Type.Literal('ACTIVE'), Type.Literal('DRAINING'), Type.Literal('DISABLED')]),
  connectionBudget: Type.Integer(),
  maxTenants: Type.Integer(),
  tenantCount: Type.Integer(),
  sizeBytes: Type.Number(),
  encryptionKeyId: Type.String(),
  health: Type.Optional(ServerHealthSchema)
})

export const ServerAddSchema = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,39}$' }),
  url: Type.String({ pattern: '^postgres(ql)?://', maxLength: 2000, description: 'Admin URL; validated, stored encrypted, never echoed' }),
  kind: Type.Union([Type.Literal('SHARED'), Type.Literal('DEDICATED')], { default: 'SHARED' }),
  connectionBudget: Type.Integer({ minimum: 1, maximum: 10_000, default: 80 }),
  maxTenants: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 5000 })
}, { additionalProperties: false })
export type ServerAdd = Static<typeof ServerAddSchema>

export const ServerNameParamsSchema = Type.Object({ name: Type.String({ maxLength: 40 }) })
export const ServerTransitionParamsSchema = Type.Object({
  name: Type.String({ maxLength: 40 }),
  action: Type.Union([Type.Literal('drain'), Type.Literal('disable'), Type.Literal('enable')])
})

const Json = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])

export const AuditEntrySchema = Type.Object({
  id: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  tenantId: Type.Union([Type.String(), Type.Null()]),
  serverId: Type.Union([Type.String(), Type.Null()]),
  before: Json,
  after: Json,
  detail: Json,
  createdAt: Type.String({ format: 'date-time' })
})

export const AuditQuerySchema = Type.Object({
  tenantId: Type.Optional(Type.String({ maxLength: 64 })),
  serverId: Type.Optional(Type.String({ maxLength: 64 })),
  action: Type.Optional(Type.String({ maxLength: 64, description: 'An action (server.drained), or every action of a kind (server.*)' })),
  actor: Type.Optional(Type.String({ maxLength: 100 })),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  cursor: Type.Optional(Type.String({ maxLength: 64 }))
})

export const AuditPageSchema = Type.Object({ entries: Type.Array(AuditEntrySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) })

export const MoveRequestSchema = Type.Object({
  to: Type.String({ maxLength: 40, description: 'Name of the server to move to (shared or dedicated)' }),
  method: Type.Optional(Type.Union([Type.Literal('LOGICAL'), Type.Literal('COPY')], { description: 'Default: LOGICAL where both servers allow it' }))
}, { additionalProperties: false })

export const MoveReportSchema = Type.Object({
  moveId: Type.String(),
  tenantId: Type.String(),
  from: Type.String(),
  to: Type.String(),
  method: Type.String(),
  freezeMs: Type.Integer({ description: 'How long writes were refused' }),
  totalMs: Type.Integer(),
  rows: Type.Integer()
})

export const MoveRecordSchema = Type.Object({
  id: Type.String(),
  fromServerId: Type.String(),
  toServerId: Type.String(),
  method: Type.String(),
  state: Type.String(),
  actor: Type.String(),
  error: Type.Union([Type.String(), Type.Null()]),
  freezeMs: Type.Union([Type.Integer(), Type.Null()]),
  dropOldAfter: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' })
})

export const TenantIdParamsSchema = Type.Object({ id: Type.String({ maxLength: 64 }) })

export const RotationReportSchema = Type.Object({
  keyId: Type.String(),
  tenants: Type.Integer(),
  servers: Type.Integer(),
  skipped: Type.Integer({ description: 'Changed while the rotation ran: run it again' }),
  failed: Type.Array(Type.Object({ id: Type.String(), error: Type.String() }))
})
