// Registry rows of fleet migrations: the FleetRun row (one active at a time across every process: a
// unique activeSlot plus a session advisory lock held by whoever executes it), the per-tenant ledger
// (TenantMigration) and Tenant.schemaVersion. Ledger writes are batched: one statement per table per
// flush, however many tenants finished since the last one.
import type pg from 'pg'
import type { RegistryClient } from './registry-client.js'
import type { TenantStore } from './tenants.js'
import { connect } from '../db/pg-admin.js'
import { ERRORS } from '../errors.js'

export type RunStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'INTERRUPTED'

export interface LedgerRow {
  tenantId: string
  fromVersion: string
  version: string
  status: 'APPLIED' | 'FAILED'
  error: string | null
  startedAt: Date
  finishedAt: Date
  durationMs: number
  attempts: number
}

export interface NewRun { direction: 'UP' | 'DOWN', targetVersion: string, origin: 'cli' | 'api', options: Record<string, unknown> }

const RUN_LOCK = "hashtext('fleet-run')"

/** The session that holds the run lock; ending it (or the process dying) frees the lock. */
export interface RunLock { release: () => Promise<void> }

export function createFleetRuns (deps: { registry: RegistryClient, registryUrl: string, tenants: Pick<TenantStore, 'transaction'> }) {
  const { registry, registryUrl } = deps

  async function tryLock (): Promise<RunLock | undefined> {
    const client: pg.Client = await connect(registryUrl, 'church-sms-fleet-lock')
    const got = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${RUN_LOCK}) AS ok`).catch(async (error: unknown) => {
      await client.end().catch(() => {})
      throw error
    })
    if (got.rows[0]?.ok !== true) {
      await client.end().catch(() => {})
      return undefined
    }
    return { release: async () => { await client.end().catch(() => {}) } }
  }

  const active = async () => await registry.fleetRun.findFirst({ where: { activeSlot: 1 } })

  const busy = (run: { id: string, status: string }): Error =>
    new ERRORS.Conflict(`Fleet migration run ${run.id} is ${run.status.toLowerCase()}: one run at a time (cancel it or wait)`)

  /** A run whose executor died (its lock is free) and that nobody will resume: a CLI run. */
  async function clearAbandoned (lockHeld: boolean): Promise<void> {
    const run = await active()
    if (run === null) return
    if (run.origin === 'cli' && lockHeld) {
      await finish(run.id, 'INTERRUPTED', 'the process running it stopped; a new run resumes where it left off')
      return
    }
    throw busy(run)
  }

  async function insert (run: NewRun, status: RunStatus) {
    try {
      return await registry.fleetRun.create({
        data: { ...run, options: run.options as never, status, activeSlot: 1, startedAt: status === 'RUNNING' ? new Date() : null }
      })
    } catch (error) {
      if ((error as { code?: string }).code !== 'P2002') throw error
      const other = await active()
      throw busy(other ?? { id: '(unknown)', status: 'RUNNING' })
    }
  }

  /** For a process that runs it now (the CLI): the lock, then the row. */
  async function startHere (run: NewRun): Promise<{ id: string, lock: RunLock }> {
    const lock = await tryLock()
    if (lock === undefined) {
      const other = await active()
      throw busy(other ?? { id: '(unknown)', status: 'RUNNING' })
    }
    try {
      await clearAbandoned(true)
      const row = await insert(run, 'RUNNING')
      return { id: row.id, lock }
    } catch (error) {
      await lock.release()
      throw error
    }
  }

  /** For the worker to run (the operator API): the row now, the lock when a worker takes the job. */
  async function enqueue (run: NewRun): Promise<{ id: string }> {
    const lock = await tryLock()
    try {
      await clearAbandoned(lock !== undefined)
    } finally {
      await lock?.release()
    }
    return { id: (await insert(run, 'QUEUED')).id }
  }

  /** The worker's claim on a queued or interrupted run; undefined when it is finished or running elsewhere. */
  async function claim (id: string): Promise<RunLock | undefined> {
    const lock = await tryLock()
    if (lock === undefined) return undefined
    const run = await registry.fleetRun.findUnique({ where: { id } })
    if (run === null || run.activeSlot !== 1) {
      await lock.release()
      return undefined
    }
    await registry.fleetRun.update({ where: { id }, data: { status: 'RUNNING', startedAt: run.startedAt ?? new Date() } })
    return lock
  }

  async function finish (id: string, status: Exclude<RunStatus, 'QUEUED' | 'RUNNING'>, error?: string): Promise<void> {
    await registry.fleetRun.update({ where: { id }, data: { status, activeSlot: null, finishedAt: new Date(), error: error?.slice(0, 2000) ?? null } })
  }

  /** Asks the run to stop after the tenants in flight; a run no worker has taken yet ends now. */
  async function cancel (id: string) {
    const run = await registry.fleetRun.findUnique({ where: { id } })
    if (run === null) throw new ERRORS.NotFound(`Fleet migration run ${id}`)
    if (run.activeSlot !== 1) return run
    await registry.fleetRun.update({ where: { id }, data: { cancelRequested: true } })
    if (run.status === 'QUEUED') {
      const lock = await tryLock()
      if (lock !== undefined) {
        try {
          await finish(id, 'CANCELLED', 'cancelled before it started')
        } finally {
          await lock.release()
        }
      }
    }
    return await registry.fleetRun.findUniqueOrThrow({ where: { id } })
  }

  /**
   * Writes what finished since the last flush in three statements (ledger rows, schema versions,
   * progress) and reads back whether an operator asked to cancel.
   */
  async function flush (runId: string, rows: LedgerRow[], progress: unknown): Promise<{ cancelRequested: boolean }> {
    if (rows.length > 0) {
      const col = <K extends keyof LedgerRow>(key: K): Array<LedgerRow[K]> => rows.map((r) => r[key])
      await registry.$executeRaw`
        INSERT INTO "TenantMigration" ("id", "runId", "tenantId", "fromVersion", "version", "status", "error", "startedAt", "finishedAt", "durationMs", "attempts")
        SELECT md5(${runId} || t."tenantId"), ${runId}, t."tenantId", t."fromVersion", t."version", t."status"::"MigrationStatus", t."error", t."startedAt", t."finishedAt", t."durationMs", t."attempts"
        FROM unnest(${col('tenantId')}::text[], ${col('fromVersion')}::text[], ${col('version')}::text[], ${col('status')}::text[], ${col('error')}::text[],
                    ${col('startedAt')}::timestamp[], ${col('finishedAt')}::timestamp[], ${col('durationMs')}::int[], ${col('attempts')}::int[])
          AS t("tenantId", "fromVersion", "version", "status", "error", "startedAt", "finishedAt", "durationMs", "attempts")
        ON CONFLICT ("runId", "tenantId") DO UPDATE SET "fromVersion" = EXCLUDED."fromVersion", "version" = EXCLUDED."version", "status" = EXCLUDED."status",
          "error" = EXCLUDED."error", "startedAt" = EXCLUDED."startedAt", "finishedAt" = EXCLUDED."finishedAt", "durationMs" = EXCLUDED."durationMs", "attempts" = EXCLUDED."attempts"
        -- A later "already current" for the same run (a second executor after a lost lock) must not
        -- erase the row that records this run migrating the tenant.
        WHERE NOT ("TenantMigration".status = 'APPLIED' AND "TenantMigration"."fromVersion" <> "TenantMigration".version AND EXCLUDED."fromVersion" = EXCLUDED.version)`
      const applied = rows.filter((r) => r.status === 'APPLIED')
      if (applied.length > 0) await setSchemaVersions(applied.map((r) => ({ tenantId: r.tenantId, version: r.version })))
    }
    const run = await registry.fleetRun.update({ where: { id: runId }, data: { progress: progress as never }, select: { cancelRequested: true } })
    return run
  }

  /** Tenant.schemaVersion for many tenants in one statement, through the tenants module (the change feed announces each row). */
  async function setSchemaVersions (versions: Array<{ tenantId: string, version: string }>): Promise<void> {
    await deps.tenants.transaction(async (tenants) => { await tenants.setSchemaVersions(versions) })
  }

  async function get (id: string) {
    const run = await registry.fleetRun.findUnique({ where: { id } })
    if (run === null) throw new ERRORS.NotFound(`Fleet migration run ${id}`)
    const failures = await registry.tenantMigration.findMany({ where: { runId: id, status: 'FAILED' }, select: { tenantId: true, fromVersion: true, error: true, attempts: true, finishedAt: true }, orderBy: { finishedAt: 'asc' }, take: 500 })
    const counts = await registry.tenantMigration.groupBy({ by: ['status'], where: { runId: id }, _count: true })
    return { run, failures, ledger: Object.fromEntries(counts.map((c) => [c.status, c._count])) as Record<string, number> }
  }

  /** Runs the operator API started that a worker must still take (after a worker restart). */
  async function resumable (): Promise<string[]> {
    return (await registry.fleetRun.findMany({ where: { activeSlot: 1, origin: 'api' }, select: { id: true } })).map((r) => r.id)
  }

  return { startHere, enqueue, claim, finish, cancel, flush, setSchemaVersions, get, resumable }
}

export type FleetRuns = ReturnType<typeof createFleetRuns>
