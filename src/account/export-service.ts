// Data exports: the owner asks (202), the worker writes the archive (export-archive.ts) into export
// storage, the DataExport row in the tenant database records each state, and a signed link lets the
// owner download it until it expires; expired files are swept. One export at a time per tenant.
import type PgBoss from 'pg-boss'
import type { FastifyBaseLogger } from 'fastify'
import { connect } from '../db/pg-admin.js'
import { currentVersion } from '../db/migrator.js'
import { ERRORS } from '../errors.js'
import type { RegistryClient } from '../registry/registry-client.js'
import type { BlobStorage } from '../tenancy/backups/storage.js'
import type { ServerDirectory } from '../registry/servers.js'
import type { TenantPool, TenantPrismaClient } from '../tenancy/tenant-pool.js'
import { writeExportArchive } from './export-archive.js'
import type { ExportLinks } from './export-links.js'
import { requireOwner } from './owner-only.js'

export const EXPORT_QUEUE = 'account-export'
export const EXPORT_SWEEP_QUEUE = 'account-export-sweep'
export interface ExportJob { tenantId: string, exportId: string }

// An export still PENDING or RUNNING after this long was lost with its worker: it no longer blocks.
const STALE_MS = 60 * 60_000

export interface ExportView {
  id: string
  status: string
  createdAt: string
  completedAt: string | null
  bytes: number | null
  expiresAt: string | null
  downloadUrl: string | null
  error: string | null
}

interface ExportRow { id: string, status: string, createdAt: Date, completedAt: Date | null, bytes: number | null, error: string | null }

export interface ExportDeps {
  registry: Pick<RegistryClient, 'tenant'>
  servers: Pick<ServerDirectory, 'get' | 'adminUrl'>
  pool: Pick<TenantPool, 'withTenant'>
  boss: Pick<PgBoss, 'send'>
  storage: BlobStorage
  links: ExportLinks
  linkTtlHours: number
  /** Where archives are put together before they are packed. */
  workDir: string
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>
}

export const exportKey = (tenantId: string, exportId: string): string => `${tenantId}/${exportId}.tar.gz`

export function createExportService (deps: ExportDeps) {
  const { registry, servers, pool, boss, storage, links, log } = deps
  const ttlMs = deps.linkTtlHours * 3_600_000

  function view (tenantId: string, row: ExportRow, now = Date.now()): ExportView {
    const expires = row.completedAt === null ? null : row.completedAt.getTime() + ttlMs
    const live = row.status === 'COMPLETED' && expires !== null && expires > now
    return {
      id: row.id,
      status: row.status,
      createdAt: row.createdAt.toISOString(),
      completedAt: row.completedAt?.toISOString() ?? null,
      bytes: row.bytes,
      expiresAt: expires === null ? null : new Date(expires).toISOString(),
      downloadUrl: live ? links.url({ tenantId, exportId: row.id, expires: expires as number }) : null,
      error: row.error
    }
  }

  async function request (db: TenantPrismaClient, tenantId: string, adminId: string): Promise<ExportView> {
    await requireOwner(db, adminId)
    const row = await db.$transaction(async (tx) => {
      // Two requests at once: the second waits here, then sees the first one's row.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('data-export'))`
      await tx.dataExport.updateMany({ where: { status: { in: ['PENDING', 'RUNNING'] }, createdAt: { lt: new Date(Date.now() - STALE_MS) } }, data: { status: 'FAILED', error: 'lost: the worker stopped before it finished' } })
      if (await tx.dataExport.count({ where: { status: { in: ['PENDING', 'RUNNING'] } } }) > 0) throw new ERRORS.ExportInProgress()
      return await tx.dataExport.create({ data: { requestedById: adminId } })
    })
    try {
      await boss.send(EXPORT_QUEUE, { tenantId, exportId: row.id } satisfies ExportJob, { retryLimit: 1, retryDelay: 30 })
    } catch (error) {
      await db.dataExport.update({ where: { id: row.id }, data: { status: 'FAILED', error: 'could not be queued' } })
      throw error
    }
    return view(tenantId, row)
  }

  async function get (db: TenantPrismaClient, tenantId: string, exportId: string): Promise<ExportView> {
    const row = await db.dataExport.findUnique({ where: { id: exportId } })
    if (row === null) throw new ERRORS.NotFound('Export')
    return view(tenantId, row)
  }

  /** The worker's part: writes the archive and records the outcome. Never throws for a bad export. */
  async function run (job: ExportJob): Promise<void> {
    const { tenantId, exportId } = job
    const tenant = await registry.tenant.findUnique({ where: { id: tenantId } })
    if (tenant === null || tenant.status === 'DELETED') return
    const claimed = await pool.withTenant(tenantId, async (db) => await db.dataExport.updateMany({ where: { id: exportId, status: { in: ['PENDING', 'RUNNING'] } }, data: { status: 'RUNNING' } }))
    if (claimed.count === 0) return
    try {
      const server = await servers.get(tenant.serverId)
      if (server === null) throw new Error(`server ${tenant.serverId} not found`)
      const client = await connect(servers.adminUrl(server, tenant.databaseName), 'church-sms-export')
      let bytes: number
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
        const { archive } = await writeExportArchive(client, { tenantId, schemaVersion: await currentVersion(client) }, deps.workDir)
        bytes = (await storage.put(exportKey(tenantId, exportId), archive)).bytes
        await client.query('COMMIT')
      } finally {
        await client.end().catch(() => {})
      }
      await pool.withTenant(tenantId, async (db) => await db.dataExport.update({
        where: { id: exportId }, data: { status: 'COMPLETED', fileName: `${exportId}.tar.gz`, bytes, completedAt: new Date() }
      }))
      log.info({ tenantId, exportId, bytes }, 'export written')
    } catch (error) {
      log.error({ tenantId, exportId, err: error }, 'export failed')
      await pool.withTenant(tenantId, async (db) => await db.dataExport.update({ where: { id: exportId }, data: { status: 'FAILED', error: 'the export could not be written' } }))
    }
  }

  /** The archive behind a signed link, or LINK_EXPIRED (410) for a bad, expired or swept one. */
  async function download (link: { tenantId: string, exportId: string, expires: number }, signature: string) {
    if (!links.verify(link, signature)) throw new ERRORS.LinkExpired()
    const body = await storage.get(exportKey(link.tenantId, link.exportId)).catch(() => { throw new ERRORS.LinkExpired() })
    return { body, fileName: `church-sms-export-${link.exportId}.tar.gz` }
  }

  /** Removes archives whose links have expired; returns how many. */
  async function sweep (now = Date.now()): Promise<number> {
    let removed = 0
    for (const file of await storage.list('')) {
      if (file.modifiedAt.getTime() + ttlMs > now) continue
      await storage.delete(file.key)
      removed++
    }
    if (removed > 0) log.info({ removed }, 'expired exports removed')
    return removed
  }

  /** Every export file of a tenant (hard delete). */
  async function destroyAll (tenantId: string): Promise<number> {
    const files = await storage.list(`${tenantId}/`)
    for (const f of files) await storage.delete(f.key)
    return files.length
  }

  return { request, get, run, download, sweep, destroyAll }
}

export type ExportService = ReturnType<typeof createExportService>
