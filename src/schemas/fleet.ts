// Operator API for fleet migration runs (/api/platform/migrations).
import { Type, type Static } from '@sinclair/typebox'

export const StartRunSchema = Type.Object({
  direction: Type.Union([Type.Literal('up'), Type.Literal('down')], { default: 'up', description: 'down = rollback' }),
  target: Type.Optional(Type.String({ maxLength: 100, description: 'up: the version to stop at (default the newest); down: the version to return to (default one back)' })),
  canary: Type.Optional(Type.Integer({ minimum: 0, description: 'Tenants migrated first; any failure among them stops the run (default max(10, 1%))' })),
  concurrency: Type.Optional(Type.Integer({ description: 'Tenants at once (default: half of each server\'s connection budget)' })),
  maxFailures: Type.Optional(Type.String({ maxLength: 10, pattern: '^\\d+(\\.\\d+)?%?$', description: 'After the canaries, a count ("3") or a share ("2%") of the tenants (default 2%)' })),
  dryRun: Type.Boolean({ default: false, description: 'Answer with the plan only; nothing is touched' })
}, { additionalProperties: false })
export type StartRun = Static<typeof StartRunSchema>

const GroupSchema = Type.Object({ total: Type.Integer(), done: Type.Integer(), migrated: Type.Integer(), current: Type.Integer(), failed: Type.Integer(), retries: Type.Integer() })

export const PlanSummarySchema = Type.Object({
  direction: Type.String(),
  target: Type.String(),
  servers: Type.Array(Type.Object({ name: Type.String(), templateVersion: Type.String(), pending: Type.Array(Type.String()) })),
  groups: Type.Object({ canary: Type.Integer(), rest: Type.Integer() }),
  upToDate: Type.Integer(),
  concurrency: Type.Integer(),
  allowedFailures: Type.Integer(),
  tenants: Type.Array(Type.Object({ id: Type.String(), group: Type.String(), schemaVersion: Type.String(), pending: Type.Array(Type.String()) }), { description: 'The first 500 tenants of the plan' })
})

export const RunSchema = Type.Object({
  id: Type.String(),
  status: Type.String(),
  direction: Type.String(),
  targetVersion: Type.String(),
  origin: Type.String(),
  cancelRequested: Type.Boolean(),
  error: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  groups: Type.Union([Type.Object({ canary: GroupSchema, rest: GroupSchema }), Type.Null()], { description: 'Progress by group (since the last resume)' }),
  templates: Type.Array(Type.Object({ server: Type.String(), from: Type.String(), to: Type.String() })),
  ledger: Type.Record(Type.String(), Type.Integer(), { description: 'Registry ledger rows of this run by status' }),
  failures: Type.Array(Type.Object({ tenantId: Type.String(), fromVersion: Type.Union([Type.String(), Type.Null()]), error: Type.Union([Type.String(), Type.Null()]), attempts: Type.Integer() }))
})

export const RunIdParamsSchema = Type.Object({ id: Type.String({ maxLength: 64 }) })
