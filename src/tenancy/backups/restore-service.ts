// Restore as a recorded state machine (TenantRestore): a new database beside the tenant's current one
// at the backup's schema version (a template clone when that is the newest, else the migrator up to
// it), loaded and verified, migrated up, then the tenant switched to it in one registry transaction.
// Until the switch the tenant never leaves its database: any failure drops the new one, and a crash
// leaves a record the next run (or the worker) cleans up. The old database is kept for a grace period.
import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { RegistryClient } from '../../registry/registry-client.js'
import { switchTenantDatabase } from '../../registry/tenant-placement.js'
import { connect, quoteIdent, withAdminClient, withDatabase } from '../../db/pg-admin.js'
import { currentVersion, latestVersion, migrateUp, type Migration } from '../../db/migrator.js'
import { ERRORS } from '../../errors.js'
import type { ServerDirectory } from '../../registry/servers.js'
import { grantTenantGroup } from '../template.js'
import type { TenantDirectory } from '../../registry/tenant-directory.js'
import { cloneTemplate, handOverSql, tenantRoleName } from '../tenant-database.js'
import type { TenantPool } from '../tenant-pool.js'
import { BackupFormatError, type TableManifest } from './backup-format.js'
import { loadBackup } from './backup-load.js'
import { BACKED_UP_STATUSES, type BackupService } from './backup-service.js'
import { DataKeyMissing } from './data-keys.js'
import { SealedStreamError } from './sealed-stream.js'

export type RestoreStep = 'DATABASE_CREATED' | 'LOADED' | 'MIGRATED' | 'SWITCHED'
const UNFINISHED = ['REQUESTED', 'DATABASE_CREATED', 'LOADED', 'MIGRATED']
const LEASE_MS = 2 * 60_000
const HEARTBEAT_MS = 30_000

export interface RestoreResult {
  id: string
  tenantId: string
  backupId: string
  state: string
  databaseName: string
  oldDatabaseName: string | null
  dropAfter: Date | null
  tables: TableManifest[]
}

export interface RestoreDeps {
  registry: RegistryClient
  servers: Pick<ServerDirectory, 'get' | 'adminUrl'>
  backups: Pick<BackupService, 'open'>
  pool: Pick<TenantPool, 'evict'>
  directory: Pick<TenantDirectory, 'invalidate'>
  migrations: Migration[]
  installationId: string
  keepOldHours: number
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>
  /** Test hook after each recorded step; throwing stands for a crash there. */
  afterStep?: (step: RestoreStep, restoreId: string) => Promise<void> | void
}

/** What a reader of the backup file found wrong, as the operator should read it. */
function asRefusal (error: unknown): unknown {
  if (error instanceof SealedStreamError || error instanceof BackupFormatError || error instanceof DataKeyMissing) return new ERRORS.BackupRefused(error.message)
  return error
}

export function createRestoreService (deps: RestoreDeps) {
  const { registry, servers, backups, pool, directory, migrations, log } = deps
  const latest = latestVersion(migrations)

  async function adminUrlOf (serverId: string, database?: string): Promise<string> {
    const server = await servers.get(serverId)
    if (server === null) throw new Error(`server ${serverId} not found`)
    return servers.adminUrl(server, database)
  }

  /** Drops a database a restore made, never the one the tenant is on. */
  async function dropRestoreDatabase (tenantId: string, serverId: string, name: string): Promise<void> {
    const tenant = await registry.tenant.findUnique({ where: { id: tenantId }, select: { databaseName: true } })
    if (tenant?.databaseName === name) throw new Error(`refusing to drop ${name}: tenant ${tenantId} is on it`)
    await withAdminClient(await adminUrlOf(serverId), async (admin) => { await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`) })
  }

  async function abandon (restore: { id: string, tenantId: string, serverId: string, databaseName: string }, reason: string): Promise<void> {
    await dropRestoreDatabase(restore.tenantId, restore.serverId, restore.databaseName)
    await registry.tenantRestore.update({ where: { id: restore.id }, data: { state: 'ABANDONED', error: reason.slice(0, 2000), lockedUntil: null } })
  }

  /** Earlier restores of the tenant that stopped before the switch (a crash): their databases go. */
  async function cleanUpUnfinished (tenantId: string | undefined, now: Date): Promise<number> {
    const stale = await registry.tenantRestore.findMany({ where: { state: { in: UNFINISHED }, ...(tenantId === undefined ? {} : { tenantId }) } })
    let cleaned = 0
    for (const r of stale) {
      if (r.lockedUntil !== null && r.lockedUntil > now) {
        if (tenantId !== undefined) throw new ERRORS.RestoreInProgress()
        continue
      }
      await abandon(r, 'interrupted before the switch: cleaned up')
      cleaned++
    }
    return cleaned
  }

  async function createDatabase (adminUrl: string, tenantId: string, name: string, schemaVersion: string): Promise<void> {
    const upTo = migrations.filter((m) => m.version <= schemaVersion)
    if (upTo.at(-1)?.version !== schemaVersion) throw new ERRORS.BackupRefused(`its schema version ${schemaVersion} is unknown to this release`)
    const fromTemplate = schemaVersion === latest
    await withAdminClient(adminUrl, async (admin) => {
      if (fromTemplate) await cloneTemplate(admin, name)
      else await admin.query(`CREATE DATABASE ${quoteIdent(name)}`)
      await admin.query(handOverSql(name, tenantRoleName(tenantId), deps.installationId))
    })
    const client = await connect(withDatabase(adminUrl, name))
    try {
      if (!fromTemplate) {
        await migrateUp(client, upTo)
        await grantTenantGroup(client)
      }
      const version = await currentVersion(client)
      if (version !== schemaVersion) throw new Error(`the new database is at ${version}, the backup at ${schemaVersion}`)
    } finally {
      await client.end()
    }
  }

  async function restore (tenantId: string, options: { backupId?: string, asNew?: boolean, now?: Date } = {}): Promise<RestoreResult> {
    const now = options.now ?? new Date()
    const tenant = await registry.tenant.findUnique({ where: { id: tenantId } })
    if (tenant === null) throw new ERRORS.TenantNotFound(tenantId)
    if (!(BACKED_UP_STATUSES as readonly string[]).includes(tenant.status)) throw new ERRORS.Conflict(`Tenant ${tenantId} is ${tenant.status}: it cannot be restored`)
    const backup = options.backupId === undefined
      ? await registry.tenantBackup.findFirst({ where: { tenantId, status: 'COMPLETED' }, orderBy: { createdAt: 'desc' } })
      : await registry.tenantBackup.findUnique({ where: { id: options.backupId } })
    if (backup === null) throw new ERRORS.NotFound(options.backupId === undefined ? `A completed backup of tenant ${tenantId}` : `Backup ${options.backupId}`)
    if (backup.tenantId !== tenantId) throw new ERRORS.BackupRefused(`backup ${backup.id} belongs to another organization`)
    if (backup.status !== 'COMPLETED') throw new ERRORS.BackupRefused(`backup ${backup.id} is ${backup.status}, not complete`)
    await cleanUpUnfinished(tenantId, now)

    const databaseName = `${tenantRoleName(tenantId)}_r${randomBytes(4).toString('hex')}`
    const row = await registry.tenantRestore.create({
      data: { tenantId, backupId: backup.id, asNew: options.asNew === true, serverId: tenant.serverId, databaseName, lockedUntil: new Date(Date.now() + LEASE_MS) }
    })
    const heartbeat = setInterval(() => {
      registry.tenantRestore.updateMany({ where: { id: row.id, state: { in: UNFINISHED } }, data: { lockedUntil: new Date(Date.now() + LEASE_MS) } }).catch(() => {})
    }, HEARTBEAT_MS)
    heartbeat.unref()
    const step = async (state: RestoreStep | 'READY', data: Record<string, unknown> = {}): Promise<void> => {
      await registry.tenantRestore.update({ where: { id: row.id }, data: { state, ...data } })
      if (state !== 'READY') await deps.afterStep?.(state, row.id)
    }
    try {
      const adminUrl = await adminUrlOf(tenant.serverId)
      await createDatabase(adminUrl, tenantId, databaseName, backup.schemaVersion)
      await step('DATABASE_CREATED')

      const client = await connect(withDatabase(adminUrl, databaseName), 'church-sms-restore')
      let tables: TableManifest[]
      try {
        const frames = await backups.open(backup)
        tables = await loadBackup(client, frames, { tenantId, backupId: backup.id, schemaVersion: backup.schemaVersion, manifest: backup.tables as TableManifest[] | null })
          .catch((error: unknown) => { throw asRefusal(error) })
        await step('LOADED')
        await migrateUp(client, migrations)
        await grantTenantGroup(client)
        await step('MIGRATED')
      } finally {
        await client.end().catch(() => {})
      }

      const dropAfter = new Date(now.getTime() + deps.keepOldHours * 3_600_000)
      if (options.asNew === true) {
        await step('READY', { dropAfter, lockedUntil: null })
        log.info({ tenantId, backupId: backup.id, databaseName }, 'backup restored beside the tenant for inspection')
        return { id: row.id, tenantId, backupId: backup.id, state: 'READY', databaseName, oldDatabaseName: null, dropAfter, tables }
      }
      await switchTenantDatabase(registry, tenantId, tenant.databaseName, {
        serverId: tenant.serverId, databaseName, databaseHost: tenant.databaseHost, databasePort: tenant.databasePort, schemaVersion: latest
      }, async (tx) => await tx.tenantRestore.update({ where: { id: row.id }, data: { state: 'SWITCHED', oldDatabaseName: tenant.databaseName, dropAfter, lockedUntil: null } }))
      // Other processes hear of the switch on the change feed; this one needs no round trip.
      directory.invalidate(tenantId)
      await pool.evict(tenantId)
      log.info({ tenantId, backupId: backup.id, databaseName, oldDatabaseName: tenant.databaseName }, 'tenant restored and switched')
      await deps.afterStep?.('SWITCHED', row.id)
      return { id: row.id, tenantId, backupId: backup.id, state: 'SWITCHED', databaseName, oldDatabaseName: tenant.databaseName, dropAfter, tables }
    } catch (error) {
      const current = await registry.tenantRestore.findUnique({ where: { id: row.id } })
      // A test's simulated crash leaves everything as a dead process would; anything else is undone now.
      if (current !== null && UNFINISHED.includes(current.state) && (error as Error).name !== 'SimulatedCrash') {
        await abandon(current, (error as Error).message).catch((undo: unknown) => { log.error({ err: undo, tenantId }, 'restore cleanup failed; the next run finishes it') })
      }
      throw error
    } finally {
      clearInterval(heartbeat)
    }
  }

  /** The worker's sweep: databases past their grace period go, and so do leftovers of crashed restores. */
  async function dropExpired (now = new Date()): Promise<{ dropped: string[], cleaned: number }> {
    const cleaned = await cleanUpUnfinished(undefined, now)
    const due = await registry.tenantRestore.findMany({ where: { state: { in: ['SWITCHED', 'READY'] }, dropAfter: { lte: now } } })
    const dropped: string[] = []
    for (const r of due) {
      const name = r.state === 'SWITCHED' ? r.oldDatabaseName : r.databaseName
      if (name !== null) {
        await dropRestoreDatabase(r.tenantId, r.serverId, name)
        dropped.push(name)
      }
      await registry.tenantRestore.update({ where: { id: r.id }, data: { state: 'DONE' } })
    }
    if (dropped.length > 0) log.info({ dropped }, 'databases kept after restores dropped')
    return { dropped, cleaned }
  }

  async function list (tenantId: string) {
    return await registry.tenantRestore.findMany({ where: { tenantId }, orderBy: { createdAt: 'desc' } })
  }

  return { restore, dropExpired, list }
}

export type RestoreService = ReturnType<typeof createRestoreService>
