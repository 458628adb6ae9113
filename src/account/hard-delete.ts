// Hard delete of an organization, as recorded steps in TenantDeletion: a crash after any step is
// finished by running it again (each step is idempotent and skipped once recorded). What stays
// afterwards is the deletion report: what was removed, when and by whom, and no personal data.
import type { FastifyBaseLogger } from 'fastify'
import { hashEmail } from '../auth/email.js'
import type { Billing } from '../billing/billing-service.js'
import { quoteIdent, withAdminClient } from '../db/pg-admin.js'
import { ERRORS } from '../errors.js'
import { Prisma } from '../generated/registry/client.js'
import type { RegistryClient } from '../registry/registry-client.js'
import { markTenantDeleted, removeTenantRows } from '../registry/tenant-lifecycle.js'
import type { BackupService } from '../tenancy/backups/backup-service.js'
import type { DataKeys } from '../tenancy/backups/data-keys.js'
import type { ServerDirectory } from '../registry/servers.js'
import { tenantRoleName } from '../tenancy/tenant-database.js'
import type { TenantDirectory } from '../registry/tenant-directory.js'
import type { TenantPool } from '../tenancy/tenant-pool.js'
import type { ExportService } from './export-service.js'
import type { Mailer } from '../mail/mailer.js'

export const DELETION_STEPS = ['MARKED', 'JOBS_REMOVED', 'DATABASES_DROPPED', 'BACKUPS_DESTROYED', 'STRIPE_CUSTOMER_DELETED', 'REGISTRY_ROWS_REMOVED', 'COMPLETED'] as const
export type DeletionStep = typeof DELETION_STEPS[number]

interface Plan { churchId: string | null, stripeCustomerId: string | null, emailHashes: string[] }
interface StepRecord { step: DeletionStep, at: string }

export interface DeletionReport {
  tenantId: string
  requestedBy: string
  reason: string
  startedAt: string
  completedAt: string | null
  steps: StepRecord[]
  removed: Record<string, unknown>
}

export interface HardDeleteDeps {
  registry: RegistryClient
  servers: Pick<ServerDirectory, 'list' | 'adminUrl'>
  pool: Pick<TenantPool, 'evict'>
  directory: Pick<TenantDirectory, 'invalidate'>
  billing: Pick<Billing, 'deleteCustomer' | 'findCustomerByTenant'>
  backups: Pick<BackupService, 'destroyAll'>
  exports: Pick<ExportService, 'destroyAll'>
  dataKeys: Pick<DataKeys, 'destroy'>
  mailer: Pick<Mailer, 'forget'>
  /** The key of the registry's email hashes (AdminEmailIndex, Invitation). */
  emailHashKey: Buffer
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>
  /** Test hook after each recorded step; throwing stands for a crash there. */
  afterStep?: (step: DeletionStep, tenantId: string) => Promise<void> | void
}

type Row = { tenantId: string, requestedBy: string, reason: string, steps: unknown, plan: unknown, removed: unknown, startedAt: Date, completedAt: Date | null }

const toReport = (r: Row): DeletionReport => ({
  tenantId: r.tenantId,
  requestedBy: r.requestedBy,
  reason: r.reason,
  startedAt: r.startedAt.toISOString(),
  completedAt: r.completedAt?.toISOString() ?? null,
  steps: r.steps as StepRecord[],
  removed: r.removed as Record<string, unknown>
})

export function createHardDelete (deps: HardDeleteDeps) {
  const { registry, servers, pool, directory, billing, log } = deps

  /** Drops every database of the tenant on every server (the current one, any kept after a restore) and its role. */
  async function dropDatabases (tenantId: string): Promise<{ databases: number, roles: number }> {
    await pool.evict(tenantId)
    const base = tenantRoleName(tenantId)
    let databases = 0
    let roles = 0
    for (const server of await servers.list()) {
      await withAdminClient(servers.adminUrl(server), async (admin) => {
        const found = await admin.query<{ name: string }>("SELECT datname AS name FROM pg_database WHERE datname = $1 OR starts_with(datname, $1 || '_r')", [base])
        for (const { name } of found.rows) {
          await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
          databases++
        }
        const role = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [base])
        if (role.rowCount === 1) {
          await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(base)}`)
          roles++
        }
      })
    }
    return { databases, roles }
  }

  async function begin (tenantId: string, requestedBy: string, reason: string): Promise<Row> {
    const tenant = await registry.tenant.findUnique({ where: { id: tenantId }, include: { church: true, adminEmails: true } })
    if (tenant === null) throw new ERRORS.TenantNotFound(tenantId)
    const plan: Plan = { churchId: tenant.churchId, stripeCustomerId: tenant.church.stripeCustomerId, emailHashes: tenant.adminEmails.map((e) => e.emailHash) }
    const row = await registry.$transaction(async (tx) => {
      const created = await tx.tenantDeletion.create({ data: { tenantId, requestedBy, reason, plan: plan as never, steps: [{ step: 'MARKED', at: new Date().toISOString() }] } })
      await markTenantDeleted(tx, tenantId)
      return created
    })
    directory.invalidate(tenantId)
    await deps.afterStep?.('MARKED', tenantId)
    return row
  }

  /**
   * Deletes the organization now, or finishes a deletion that stopped part way. `requestedBy` and
   * `reason` are recorded on the first run (e.g. "operator", "owner <adminId> via grace period").
   */
  async function hardDelete (tenantId: string, who: { requestedBy: string, reason: string }): Promise<DeletionReport> {
    let row: Row | null = await registry.tenantDeletion.findUnique({ where: { tenantId } })
    if (row === null) row = await begin(tenantId, who.requestedBy, who.reason)
    if (row.completedAt !== null) return toReport(row)
    const plan = row.plan as Plan
    const removed = { ...(row.removed as Record<string, unknown>) }
    const done = new Set((row.steps as StepRecord[]).map((s) => s.step))
    const steps = [...(row.steps as StepRecord[])]

    const run = async (step: DeletionStep, fn: () => Promise<Record<string, unknown>>): Promise<void> => {
      if (done.has(step)) return
      Object.assign(removed, await fn())
      steps.push({ step, at: new Date().toISOString() })
      const last = step === 'COMPLETED'
      await registry.tenantDeletion.update({
        where: { tenantId },
        data: { steps: steps as never, removed: removed as never, ...(last ? { completedAt: new Date(), plan: Prisma.DbNull } : {}) }
      })
      await deps.afterStep?.(step, tenantId)
    }

    await run('JOBS_REMOVED', async () => {
      const jobs = await registry.$executeRaw`DELETE FROM pgboss.job WHERE data->>'tenantId' = ${tenantId}`
      const archived = await registry.$executeRaw`DELETE FROM pgboss.archive WHERE data->>'tenantId' = ${tenantId}`
      return { queuedJobs: jobs + archived }
    })
    await run('DATABASES_DROPPED', async () => await dropDatabases(tenantId))
    await run('BACKUPS_DESTROYED', async () => {
      const backups = await deps.backups.destroyAll(tenantId)
      const exports = await deps.exports.destroyAll(tenantId)
      const restores = (await registry.tenantRestore.deleteMany({ where: { tenantId } })).count
      return { backups, exports, restoreRecords: restores, backupKeyDestroyed: await deps.dataKeys.destroy(tenantId) }
    })
    await run('STRIPE_CUSTOMER_DELETED', async () => {
      const customerId = plan.stripeCustomerId ?? await billing.findCustomerByTenant(tenantId)
      if (customerId !== null) await billing.deleteCustomer(customerId)
      return { stripeCustomer: customerId !== null }
    })
    await run('REGISTRY_ROWS_REMOVED', async () => {
      // Local mode's outbox holds mail to the organization's admins and invitees: it goes first, while
      // the invitations still name them. Someone who also works for another organization loses that
      // one's outbox mail too: a deletion leaves no address behind, and the outbox is a local convenience.
      const invited = await registry.invitation.findMany({ where: { tenantId }, select: { emailHash: true } })
      const people = new Set([...plan.emailHashes, ...invited.map((i) => i.emailHash)])
      const outboxMail = await deps.mailer.forget((address) => people.has(hashEmail(deps.emailHashKey, address)))
      return { outboxMail, ...await removeTenantRows(registry, tenantId, plan) }
    })
    directory.invalidate(tenantId)
    await run('COMPLETED', async () => ({}))
    log.info({ tenantId, removed }, 'organization deleted')
    return toReport(await registry.tenantDeletion.findUniqueOrThrow({ where: { tenantId } }))
  }

  async function report (tenantId: string): Promise<DeletionReport> {
    const row = await registry.tenantDeletion.findUnique({ where: { tenantId } })
    if (row === null) throw new ERRORS.NotFound(`Deletion of tenant ${tenantId}`)
    return toReport(row)
  }

  /** Deletions that stopped part way (a crash): the worker's sweep finishes them. */
  async function unfinished (): Promise<string[]> {
    return (await registry.tenantDeletion.findMany({ where: { completedAt: null }, select: { tenantId: true } })).map((r) => r.tenantId)
  }

  return { hardDelete, report, unfinished }
}

export type HardDelete = ReturnType<typeof createHardDelete>
