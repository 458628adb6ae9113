// The organization's own account: data exports and deletion with a grace period.
import { Type } from '@sinclair/typebox'

const Timestamp = Type.String({ format: 'date-time' })
const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()])

export const ExportSchema = Type.Object({
  id: Type.String(),
  status: Type.String({ description: 'PENDING, RUNNING, COMPLETED or FAILED' }),
  createdAt: Timestamp,
  completedAt: Nullable(Timestamp),
  bytes: Nullable(Type.Integer()),
  expiresAt: Nullable(Timestamp),
  downloadUrl: Nullable(Type.String({ description: 'Signed link, valid until expiresAt; null once expired' })),
  error: Nullable(Type.String())
})

export const ExportParamsSchema = Type.Object({ id: Type.String({ maxLength: 64 }) })

export const DownloadQuerySchema = Type.Object({
  tenant: Type.String({ maxLength: 64 }),
  expires: Type.Integer({ minimum: 0 }),
  signature: Type.String({ maxLength: 128 })
})

export const DeletionRequestSchema = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 200, description: 'The owner\'s password, entered again' }),
  reason: Type.Optional(Type.String({ maxLength: 1000 }))
}, { additionalProperties: false })

export const DeletionSchema = Type.Object({
  status: Type.String({ description: 'DELETION_SCHEDULED, or ACTIVE once cancelled' }),
  deletionScheduledFor: Nullable(Timestamp)
})

export const DeletionReportSchema = Type.Object({
  tenantId: Type.String(),
  requestedBy: Type.String(),
  reason: Type.String(),
  startedAt: Timestamp,
  completedAt: Nullable(Timestamp),
  steps: Type.Array(Type.Object({ step: Type.String(), at: Timestamp })),
  removed: Type.Record(Type.String(), Type.Unknown(), { description: 'What each step removed (counts), no personal data' })
})
