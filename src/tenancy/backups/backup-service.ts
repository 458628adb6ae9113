// Per-tenant backups: one snapshot of every table streamed with COPY into frames (backup-format.ts),
// sealed with the tenant's data key (sealed-stream.ts) straight into storage; recorded in TenantBackup
// with its manifest. Daily backups beyond the retention count are deleted after each run.
import { randomBytes } from 'node:crypto'
import { pipeline, Readable, type Transform } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import type { RegistryClient } from '../../registry/registry-client.js'
import { connect } from '../../db/pg-admin.js'
import { currentVersion } from '../../db/migrator.js'
import { ERRORS } from '../../errors.js'
import type { ServerDirectory } from '../../registry/servers.js'
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, readBackupFrames, writeBackupFrames, type BackupManifest, type Frame } from './backup-format.js'
import type { DataKeys } from './data-keys.js'
import { createOpenStream, createSealStream } from './sealed-stream.js'
import type { BlobStorage } from './storage.js'
import { listTables } from './table-copy.js'

/** Tenants whose database exists and holds data worth keeping. */
export const BACKED_UP_STATUSES = ['ACTIVE', 'SUSPENDED', 'DELETION_SCHEDULED'] as const

export type BackupKind = 'daily' | 'manual'

export interface BackupRecord {
  id: string
  tenantId: string
  status: string
  kind: string
  schemaVersion: string
  bytes: bigint | null
  tables: unknown
  error: string | null
  createdAt: Date
  completedAt: Date | null
}

export interface BackupAllReport { total: number, completed: string[], failed: Array<{ tenantId: string, error: string }>, pruned: number }

export interface BackupDeps {
  registry: Pick<RegistryClient, 'tenant' | 'tenantBackup'>
  servers: Pick<ServerDirectory, 'get' | 'adminUrl'>
  dataKeys: DataKeys
  storage: BlobStorage
  /** Daily backups kept per tenant. */
  keep: number
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>
}

/** Sortable by time, unique, and safe in a storage key. */
export function newBackupId (at = new Date()): string {
  return `${at.toISOString().replace(/[-:]/g, '').replace('.', '').toLowerCase()}-${randomBytes(4).toString('hex')}`
}

const storageKey = (tenantId: string, backupId: string): string => `${tenantId}/${backupId}.csbk`

export function createBackupService (deps: BackupDeps) {
  const { registry, servers, dataKeys, storage, log } = deps

  async function backup (tenantId: string, kind: BackupKind = 'manual'): Promise<BackupRecord> {
    const tenant = await registry.tenant.findUnique({ where: { id: tenantId } })
    if (tenant === null) throw new ERRORS.TenantNotFound(tenantId)
    if (!(BACKED_UP_STATUSES as readonly string[]).includes(tenant.status)) throw new ERRORS.Conflict(`Tenant ${tenantId} is ${tenant.status}: there is nothing to back up`)
    const server = await servers.get(tenant.serverId)
    if (server === null) throw new Error(`server ${tenant.serverId} not found`)
    const key = await dataKeys.getOrCreate(tenantId)
    const id = newBackupId()
    const client = await connect(servers.adminUrl(server, tenant.databaseName), 'church-sms-backup')
    let created = false
    try {
      // One snapshot for every table: the backup is consistent even while the tenant writes.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      const schemaVersion = await currentVersion(client)
      const tables = await listTables(client)
      await registry.tenantBackup.create({ data: { id, tenantId, kind, schemaVersion, storageKey: storageKey(tenantId, id), status: 'RUNNING' } })
      created = true
      let manifest: BackupManifest | undefined
      const frames = writeBackupFrames(client, { format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, tenantId, backupId: id, schemaVersion, createdAt: new Date().toISOString(), tables })
      const source = Readable.from((async function * () {
        for await (const frame of frames) {
          if (frame[0] === 0x5a) manifest = JSON.parse(frame.subarray(5).toString('utf8')) as BackupManifest
          yield frame
        }
      })())
      const sealed: Transform = pipeline(source, createSealStream(key, { tenantId, objectId: id }), () => {})
      const stored = await storage.put(storageKey(tenantId, id), sealed)
      await client.query('COMMIT')
      const done = await registry.tenantBackup.update({
        where: { id },
        data: { status: 'COMPLETED', bytes: BigInt(stored.bytes), tables: (manifest?.tables ?? []) as never, completedAt: new Date() }
      })
      log.info({ tenantId, backupId: id, bytes: stored.bytes }, 'tenant backed up')
      return done
    } catch (error) {
      if (created) {
        await registry.tenantBackup.update({ where: { id }, data: { status: 'FAILED', error: (error as Error).message.slice(0, 2000) } }).catch(() => {})
        await storage.delete(storageKey(tenantId, id)).catch(() => {})
      }
      throw error
    } finally {
      await client.end().catch(() => {})
    }
  }

  /** Deletes the tenant's daily backups beyond the newest `keep` (and failed attempts), oldest first. */
  async function prune (tenantId: string): Promise<number> {
    const daily = await registry.tenantBackup.findMany({ where: { tenantId, kind: 'daily' }, orderBy: { createdAt: 'desc' } })
    const completed = daily.filter((b) => b.status === 'COMPLETED')
    const doomed = [...completed.slice(deps.keep), ...daily.filter((b) => b.status === 'FAILED')]
    for (const b of doomed) {
      await storage.delete(storageKey(tenantId, b.id))
      await registry.tenantBackup.delete({ where: { id: b.id } })
    }
    return doomed.length
  }

  /** The nightly run: every tenant with data, `concurrency` at a time, failures isolated. */
  async function backupAll (options: { concurrency: number, kind?: BackupKind, onProgress?: (done: number, total: number) => void }): Promise<BackupAllReport> {
    const kind = options.kind ?? 'daily'
    const tenants = await registry.tenant.findMany({ where: { status: { in: [...BACKED_UP_STATUSES] } }, select: { id: true }, orderBy: { createdAt: 'asc' } })
    const report: BackupAllReport = { total: tenants.length, completed: [], failed: [], pruned: 0 }
    let next = 0
    const worker = async (): Promise<void> => {
      for (let t = tenants[next++]; t !== undefined; t = tenants[next++]) {
        try {
          await backup(t.id, kind)
          report.completed.push(t.id)
          if (kind === 'daily') report.pruned += await prune(t.id)
        } catch (error) {
          report.failed.push({ tenantId: t.id, error: (error as Error).message })
          log.error({ tenantId: t.id, err: error }, 'tenant backup failed')
        }
        options.onProgress?.(report.completed.length + report.failed.length, tenants.length)
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker))
    return report
  }

  async function list (tenantId: string): Promise<BackupRecord[]> {
    return await registry.tenantBackup.findMany({ where: { tenantId }, orderBy: { createdAt: 'desc' } })
  }

  /**
   * The frames of a backup, opened with its tenant's key. A file whose clear header names another
   * tenant or another backup is refused before any key is used.
   */
  async function open (record: Pick<BackupRecord, 'id' | 'tenantId'>): Promise<AsyncGenerator<Frame>> {
    const file = await storage.get(storageKey(record.tenantId, record.id)).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new ERRORS.BackupRefused(`the file of backup ${record.id} is missing from storage`) : error
    })
    const opened = createOpenStream(async (header) => {
      if (header.tenantId !== record.tenantId) throw new ERRORS.BackupRefused(`the file is a backup of another organization (${header.tenantId})`)
      if (header.objectId !== record.id) throw new ERRORS.BackupRefused(`the file holds backup ${header.objectId}, not ${record.id}`)
      return await dataKeys.get(record.tenantId)
    })
    return readBackupFrames(pipeline(file, opened, () => {}))
  }

  /** Every backup file and record of a tenant (hard delete); returns how many there were. */
  async function destroyAll (tenantId: string): Promise<number> {
    const files = await storage.list(`${tenantId}/`)
    for (const f of files) await storage.delete(f.key)
    const { count } = await registry.tenantBackup.deleteMany({ where: { tenantId } })
    return Math.max(count, files.length)
  }

  return { backup, backupAll, prune, list, open, destroyAll, storageKey }
}

export type BackupService = ReturnType<typeof createBackupService>
