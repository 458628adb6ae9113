// Each organization's data over its whole life: backups and restores (src/tenancy/backups/), exports
// and deletion (src/account/). Decorates the services; with the worker enabled, runs their schedules.
import path from 'node:path'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { loadMigrations, MIGRATION_SETS } from '../../db/migrator.js'
import { startBackupJobs } from '../../tenancy/backups/backup-jobs.js'
import { createBackupService, type BackupService } from '../../tenancy/backups/backup-service.js'
import { createDataKeys, type DataKeys } from '../../tenancy/backups/data-keys.js'
import { createRestoreService, type RestoreService, type RestoreStep } from '../../tenancy/backups/restore-service.js'
import { createDirectoryStorage, type BlobStorage } from '../../tenancy/backups/storage.js'
import { createExportLinks } from '../../account/export-links.js'
import { createDeletionService, DELETION_SWEEP_QUEUE, type DeletionService } from '../../account/deletion-service.js'
import { createHardDelete, type DeletionStep, type HardDelete } from '../../account/hard-delete.js'
import { createExportService, EXPORT_QUEUE, EXPORT_SWEEP_QUEUE, type ExportJob, type ExportService } from '../../account/export-service.js'
import { createQueueSafely } from '../../db/create-queue.js'

declare module 'fastify' {
  interface FastifyInstance {
    backupStorage: BlobStorage
    dataKeys: DataKeys
    backups: BackupService
    restores: RestoreService
    exportStorage: BlobStorage
    exports: ExportService
    hardDelete: HardDelete
    deletions: DeletionService
  }
}

export interface LifecycleOptions {
  /** Tests inject restore faults here. */
  afterRestoreStep?: (step: RestoreStep, restoreId: string) => Promise<void> | void
  /** Tests inject hard delete faults here. */
  afterDeletionStep?: (step: DeletionStep, tenantId: string) => Promise<void> | void
}

async function lifecyclePlugin (app: FastifyInstance, opts: LifecycleOptions): Promise<void> {
  const { config, registry, servers, secretBox } = app
  const settings = config.lifecycle
  const backupStorage = createDirectoryStorage(settings.backupDir)
  const dataKeys = createDataKeys({ registry, secretBox })
  const backups = createBackupService({ registry, servers, dataKeys, storage: backupStorage, keep: settings.backupKeep, log: app.log })
  const restores = createRestoreService({
    registry,
    servers,
    backups,
    pool: app.pool,
    directory: app.directory,
    migrations: await loadMigrations(MIGRATION_SETS.tenant),
    installationId: app.installationId,
    keepOldHours: settings.restoreKeepOldHours,
    log: app.log,
    afterStep: opts.afterRestoreStep
  })
  const exportStorage = createDirectoryStorage(settings.exportDir)
  const exports = createExportService({
    registry,
    servers,
    pool: app.pool,
    boss: app.boss,
    storage: exportStorage,
    links: createExportLinks({ secret: config.secrets.jwtSecret, publicUrl: config.publicUrl }),
    linkTtlHours: settings.exportLinkTtlHours,
    workDir: path.join(config.dataDir, 'tmp'),
    log: app.log
  })
  // Queues exist whether or not this process works them: the API enqueues exports.
  await createQueueSafely(app.boss, EXPORT_QUEUE, { name: EXPORT_QUEUE, retryLimit: 1, retryDelay: 30 })
  await createQueueSafely(app.boss, EXPORT_SWEEP_QUEUE, { name: EXPORT_SWEEP_QUEUE, policy: 'stately', retryLimit: 0 })
  app.decorate('backupStorage', backupStorage)
  app.decorate('exportStorage', exportStorage)
  app.decorate('exports', exports)
  const hardDelete = createHardDelete({ registry, servers, pool: app.pool, directory: app.directory, billing: app.billing, backups, exports, dataKeys, mailer: app.mailer, emailHashKey: config.secrets.emailHashKey, log: app.log, afterStep: opts.afterDeletionStep })
  const deletions = createDeletionService({ registry, directory: app.directory, hardDelete, graceDays: settings.deletionGraceDays, log: app.log })
  await createQueueSafely(app.boss, DELETION_SWEEP_QUEUE, { name: DELETION_SWEEP_QUEUE, policy: 'stately', retryLimit: 0 })
  app.decorate('hardDelete', hardDelete)
  app.decorate('deletions', deletions)
  app.decorate('dataKeys', dataKeys)
  app.decorate('backups', backups)
  app.decorate('restores', restores)

  if (!config.worker.enabled) return
  const workerIds = await startBackupJobs(app.boss, { backups, restores, schedule: settings.backupSchedule, concurrency: settings.backupConcurrency, log: app.log })
  await app.boss.schedule(EXPORT_SWEEP_QUEUE, '7 * * * *')
  await app.boss.schedule(DELETION_SWEEP_QUEUE, '37 * * * *')
  workerIds.push(
    await app.boss.work<ExportJob>(EXPORT_QUEUE, { pollingIntervalSeconds: 1 }, async (jobs) => { for (const job of jobs) await exports.run(job.data) }),
    await app.boss.work(EXPORT_SWEEP_QUEUE, { pollingIntervalSeconds: 5 }, async () => { await exports.sweep() }),
    await app.boss.work(DELETION_SWEEP_QUEUE, { pollingIntervalSeconds: 5 }, async () => { await deletions.runDue() })
  )
  // Registered after the jobs plugin (through the worker plugin), so this runs before pg-boss stops.
  app.addHook('onClose', async () => {
    for (const id of workerIds) await app.boss.offWork({ id })
  })
}

export default fp(lifecyclePlugin, { name: 'lifecycle', dependencies: ['worker', 'team'] })
