// Liveness and readiness.
import { Type } from '@sinclair/typebox'

export const HealthSchema = Type.Object({ status: Type.Literal('ok') })
export const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Object({
    registry: Type.Boolean(),
    registryMigrated: Type.Boolean(),
    templateReady: Type.Boolean()
  }),
  registryVersion: Type.String(),
  tenantSchemaVersion: Type.String()
})
