// Each organization's data over its whole life: backups and restores (src/tenancy/backups/), exports
// and deletion (src/account/). Decorates the services; with the worker enabled, runs their schedules.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { loadMigrations, MIGRATION_SETS } from '../../db/migrator.js'
import { startBackupJobs } from '../../tenancy/backups/backup-jobs.js'
import { createBackupService, type BackupService } from '../../tenancy/backups/backup-service.js'
import { createDataKeys, type DataKeys } from '../../tenancy/backups/data-keys.js'
import { createRestoreService, type RestoreService, type RestoreStep } from '../../tenancy/backups/restore-service.js'
import { createDirectoryStorage, type BlobStorage } from '../../tenancy/backups/storage.js'

declare module 'fastify' {
  interface FastifyInstance {
    backupStorage: BlobStorage
    dataKeys: DataKeys
    backups: BackupService
    restores: RestoreService
  }
}

export interface LifecycleOptions {
  /** Tests inject restore faults here. */
  afterRestoreStep?: (step: RestoreStep, restoreId: string) => Promise<void> | void
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
  app.decorate('backupStorage', backupStorage)
  app.decorate('dataKeys', dataKeys)
  app.decorate('backups', backups)
  app.decorate('restores', restores)

  if (!config.worker.enabled) return
  const workerIds = await startBackupJobs(app.boss, { backups, restores, schedule: settings.backupSchedule, concurrency: settings.backupConcurrency, log: app.log })
  // Registered after the worker plugin, so this runs before pg-boss stops.
  app.addHook('onClose', async () => {
    for (const id of workerIds) await app.boss.offWork({ id })
  })
}

export default fp(lifecyclePlugin, { name: 'lifecycle', dependencies: ['worker'] })
