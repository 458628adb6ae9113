// Operator API schemas: a tenant's own database (BYOD), set and tested. URLs go in, never out.
import { Type } from '@sinclair/typebox'
import { MoveReportSchema } from './servers.js'

const DatabaseUrl = Type.String({ pattern: '^postgres(ql)?://', maxLength: 2000, description: 'postgres:// URL of a role that can create a database or owns an empty one; validated, stored encrypted, never echoed or logged' })

export const DatabaseSetSchema = Type.Object({
  url: DatabaseUrl,
  connectionBudget: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Connections the platform may hold on that server (default 10)' }))
}, { additionalProperties: false })

export const DatabaseTestBodySchema = Type.Union([
  Type.Object({ url: Type.Optional(DatabaseUrl) }, { additionalProperties: false }),
  Type.Null()
], { description: 'Without a url: the tenant\'s stored connection. With one: a candidate, validated and not recorded.' })

export const DatabaseSetResultSchema = Type.Object({
  tenantId: Type.String(),
  server: Type.String(),
  kind: Type.Literal('BYOD'),
  host: Type.String(),
  port: Type.Integer(),
  database: Type.String(),
  user: Type.String(),
  ownDatabase: Type.Boolean({ description: 'true: the URL\'s own empty database holds the tenant; false: tenant_<id> was created by its role' }),
  move: MoveReportSchema
})

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

export const DatabaseTestResultSchema = Type.Object({
  tenantId: Type.String(),
  target: Type.Union([Type.Literal('tenant'), Type.Literal('candidate')]),
  at: Type.String({ description: 'host:port' }),
  ok: Type.Boolean(),
  reachable: Type.Boolean(),
  reason: Nullable(Type.String()),
  rttMs: Type.Union([Type.Number(), Type.Null()]),
  version: Nullable(Type.String()),
  server: Nullable(Type.String()),
  schemaVersion: Nullable(Type.String())
})
