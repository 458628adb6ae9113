// Operator API for a tenant's backups: list, back up now, restore one (switching the tenant, or beside it).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../../schemas/common.js'
import { BackupParamsSchema, BackupSchema, RestoreRequestSchema, RestoreSchema, TenantParamsSchema, type BackupBody } from '../../schemas/backups.js'
import type { BackupRecord } from '../../tenancy/backups/backup-service.js'
import type { RestoreResult } from '../../tenancy/backups/restore-service.js'

const backupBody = (b: BackupRecord): BackupBody => ({
  id: b.id,
  tenantId: b.tenantId,
  status: b.status,
  kind: b.kind,
  schemaVersion: b.schemaVersion,
  bytes: b.bytes === null ? null : Number(b.bytes),
  tables: Array.isArray(b.tables) ? b.tables as BackupBody['tables'] : [],
  error: b.error,
  createdAt: b.createdAt.toISOString(),
  completedAt: b.completedAt?.toISOString() ?? null
})

const restoreBody = (r: RestoreResult) => ({ ...r, dropAfter: r.dropAfter?.toISOString() ?? null })

const platformBackupRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ bearerAuth: [] }]

  app.get('/api/platform/tenants/:id/backups', {
    config: { permission: 'operator' },
    schema: { tags: ['platform'], security, params: TenantParamsSchema, response: { 200: Type.Object({ backups: Type.Array(BackupSchema) }), ...errorResponses(401, 403) } }
  }, async (request) => ({ backups: (await app.backups.list(request.params.id)).map(backupBody) }))

  app.post('/api/platform/tenants/:id/backups', {
    config: { permission: 'operator' },
    schema: { tags: ['platform'], security, params: TenantParamsSchema, response: { 201: BackupSchema, ...errorResponses(401, 403, 404, 409) } }
  }, async (request, reply) => await reply.status(201).send(backupBody(await app.backups.backup(request.params.id, 'manual'))))

  app.post('/api/platform/tenants/:id/backups/:backupId/restore', {
    config: { permission: 'operator' },
    schema: { tags: ['platform'], security, params: BackupParamsSchema, body: RestoreRequestSchema, response: { 200: RestoreSchema, ...errorResponses(401, 403, 404, 409, 422) } }
  }, async (request) => restoreBody(await app.restores.restore(request.params.id, { backupId: request.params.backupId, asNew: request.body.asNew })))
}

export default platformBackupRoutes
