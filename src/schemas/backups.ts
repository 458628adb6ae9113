// Operator API for backups and restores (/api/platform/tenants/:id/backups).
import { Type, type Static } from '@sinclair/typebox'

export const TenantParamsSchema = Type.Object({ id: Type.String({ maxLength: 64 }) })
export const BackupParamsSchema = Type.Object({ id: Type.String({ maxLength: 64 }), backupId: Type.String({ maxLength: 64 }) })

export const TableManifestSchema = Type.Object({ name: Type.String(), rows: Type.Integer(), bytes: Type.Integer(), sha256: Type.String() })

export const BackupSchema = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  status: Type.String({ description: 'RUNNING, COMPLETED or FAILED' }),
  kind: Type.String({ description: 'daily (kept by retention) or manual' }),
  schemaVersion: Type.String(),
  bytes: Type.Union([Type.Integer(), Type.Null()]),
  tables: Type.Array(TableManifestSchema),
  error: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  completedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
})
export type BackupBody = Static<typeof BackupSchema>

export const RestoreRequestSchema = Type.Object({
  asNew: Type.Boolean({ default: false, description: 'Restore beside the tenant for inspection; the tenant is not switched' })
}, { additionalProperties: false })

export const RestoreSchema = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  backupId: Type.String(),
  state: Type.String({ description: 'SWITCHED (the tenant now uses the restored database) or READY (restored beside it)' }),
  databaseName: Type.String(),
  oldDatabaseName: Type.Union([Type.String(), Type.Null()]),
  dropAfter: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  tables: Type.Array(TableManifestSchema)
})
