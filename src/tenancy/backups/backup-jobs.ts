// The worker's share of backups: the nightly backup of every tenant (a pg-boss cron, one run at a time
// however many workers are up) and an hourly sweep that drops databases kept after restores.
import type PgBoss from 'pg-boss'
import type { FastifyBaseLogger } from 'fastify'
import type { BackupService } from './backup-service.js'
import type { RestoreService } from './restore-service.js'
import { createQueueSafely } from '../../db/create-queue.js'

export const NIGHTLY_BACKUP_QUEUE = 'tenant-backup-nightly'
export const RESTORE_SWEEP_QUEUE = 'restore-sweep'

export interface BackupJobOptions {
  backups: Pick<BackupService, 'backupAll'>
  restores: Pick<RestoreService, 'dropExpired'>
  schedule: string
  concurrency: number
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>
}

export async function startBackupJobs (boss: PgBoss, opts: BackupJobOptions): Promise<string[]> {
  // Stately: a run that outlasts the night does not get a second one beside it. The run itself never
  // fails (each tenant's failure is isolated and logged), so nothing is retried wholesale.
  await createQueueSafely(boss, NIGHTLY_BACKUP_QUEUE, { name: NIGHTLY_BACKUP_QUEUE, policy: 'stately', retryLimit: 0, expireInSeconds: 6 * 3600 })
  await createQueueSafely(boss, RESTORE_SWEEP_QUEUE, { name: RESTORE_SWEEP_QUEUE, policy: 'stately', retryLimit: 0 })
  await boss.schedule(NIGHTLY_BACKUP_QUEUE, opts.schedule)
  await boss.schedule(RESTORE_SWEEP_QUEUE, '17 * * * *')
  return [
    await boss.work(NIGHTLY_BACKUP_QUEUE, { pollingIntervalSeconds: 5 }, async () => {
      const report = await opts.backups.backupAll({ concurrency: opts.concurrency, kind: 'daily' })
      opts.log.info({ total: report.total, completed: report.completed.length, failed: report.failed.length, pruned: report.pruned }, 'nightly backups done')
    }),
    await boss.work(RESTORE_SWEEP_QUEUE, { pollingIntervalSeconds: 5 }, async () => { await opts.restores.dropExpired() })
  ]
}
