// Executes a fleet plan: templates, then the canary group, then the rest, `concurrency` tenants at a
// time, each holding one slot of its server's budget borrowed from the tenant pool (so live traffic
// and the run together stay within it). A canary failure stops the run; afterwards failures are
// recorded until the allowance is passed. A tenant whose locks could not be had goes to the back of
// the queue and is tried again later in the same run. So does a tenant whose server went away (killed,
// restarting): the run waits for it, up to OUTAGE_GRACE_MS per tenant, instead of failing the fleet.
import type { Migration } from '../../db/migrator.js'
import { isConnectionLoss } from '../../db/connection-loss.js'
import { connect } from '../../db/pg-admin.js'
import type { LedgerRow } from '../../registry/fleet-runs.js'
import type { ServerRow } from '../../registry/servers.js'
import type { TenantPool } from '../tenant-pool.js'
import { applyPending, isLockTimeout } from './apply.js'
import type { LedgerSink } from './ledger.js'
import { createLedgerBuffer } from './ledger.js'
import type { FleetPlan, PlanTenant } from './plan.js'
import { migrateTemplate } from './templates.js'
import { prewarmRelationCache, relationCacheInitFilePresent } from '../relcache-prewarm.js'

export type GroupName = 'canary' | 'rest'
export interface GroupProgress { total: number, done: number, migrated: number, current: number, failed: number, retries: number }
export interface TenantFailure { tenantId: string, group: GroupName, error: string, attempts: number }
export type RunOutcome = 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'INTERRUPTED'

export interface FleetReport {
  runId: string | undefined
  direction: 'up' | 'down'
  target: string
  status: RunOutcome
  reason: string | undefined
  templates: Array<{ server: string, from: string, to: string, applied: string[] }>
  groups: Record<GroupName, GroupProgress>
  upToDate: number
  failures: TenantFailure[]
  concurrency: number
  /** Tenants being migrated right now. */
  inFlight: number
  /** Most fleet connections open at once. */
  peakConnections: number
  durationMs: number
}

export interface RunDeps {
  servers: { list: () => Promise<ServerRow[]>, adminUrl: (server: ServerRow, database?: string) => string }
  pool: Pick<TenantPool, 'borrow' | 'evict'>
  ledger: LedgerSink
  log: { info: (obj: unknown, msg?: string) => void, warn: (obj: unknown, msg?: string) => void }
}

export interface RunHooks {
  runId?: string
  onProgress?: (report: FleetReport) => void
  /** Aborted when the process shuts down: the run stops after the tenants in flight, resumable. */
  signal?: AbortSignal
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const emptyGroup = (total: number): GroupProgress => ({ total, done: 0, migrated: 0, current: 0, failed: 0, retries: 0 })
const retryable = (error: unknown): boolean => isLockTimeout(error) || (error as { code?: string }).code === 'TENANT_POOL_EXHAUSTED'
/** How long a tenant's server may stay unreachable before the tenant counts as failed. */
export const OUTAGE_GRACE_MS = 5 * 60_000
const outageBackoff = (losses: number): number => Math.min(250 * 2 ** Math.min(losses, 5), 5000)

export async function executeFleetPlan (plan: FleetPlan, migrations: Migration[], deps: RunDeps, hooks: RunHooks = {}): Promise<FleetReport> {
  const started = Date.now()
  const { options } = plan
  const report: FleetReport = {
    runId: hooks.runId,
    direction: options.direction,
    target: options.target,
    status: 'SUCCEEDED',
    reason: undefined,
    templates: [],
    groups: { canary: emptyGroup(plan.canary.length), rest: emptyGroup(plan.rest.length) },
    upToDate: plan.upToDate,
    failures: [],
    concurrency: plan.concurrency,
    inFlight: 0,
    peakConnections: 0,
    durationMs: 0
  }
  const ledger = createLedgerBuffer(deps.ledger, () => ({ groups: report.groups, templates: report.templates, failures: report.failures.length }),
    { onError: (err) => { deps.log.warn({ err }, 'fleet ledger write failed; retrying') } })
  const serverRows = new Map((await deps.servers.list()).map((s) => [s.id, s]))
  let open = 0
  const stopReason = (): [RunOutcome, string] | undefined => {
    if (hooks.signal?.aborted === true) return ['INTERRUPTED', 'the process is shutting down; the run resumes from here']
    if (ledger.cancelRequested) return ['CANCELLED', 'cancelled by an operator']
    return undefined
  }
  const progress = (): void => {
    report.durationMs = Date.now() - started
    hooks.onProgress?.(report)
  }

  async function migrateOne (tenant: PlanTenant): Promise<{ from: string, to: string, applied: string[] }> {
    const server = serverRows.get(tenant.serverId)
    if (server === undefined) throw new Error(`server ${tenant.serverId} not found`)
    const release = await deps.pool.borrow(tenant.serverId)
    open++
    report.peakConnections = Math.max(report.peakConnections, open)
    try {
      const client = await connect(deps.servers.adminUrl(server, tenant.databaseName), 'church-sms-fleet')
      let result
      let prewarm = false
      try {
        // No GRANT here: the template's default privileges (cloned with it) cover what migrations
        // create, and a tenant whose grants were changed by hand is drift for `verify` to report.
        result = await applyPending(client, migrations, options.direction, options.target, options)
        prewarm = result.applied.length > 0 && !await relationCacheInitFilePresent(client)
      } finally {
        await client.end().catch(() => {})
      }
      // Still inside the borrowed slot: the run pays a rebuilt relation cache, not the next request.
      if (prewarm) await prewarmRelationCache(deps.servers.adminUrl(server, tenant.databaseName))
      return result
    } finally {
      open--
      release()
    }
  }

  async function runGroup (name: GroupName, tenants: PlanTenant[]): Promise<void> {
    const group = report.groups[name]
    // lostSince: when this tenant's server first went away; losses: attempts cut short that way.
    const queue = tenants.map((tenant) => ({ tenant, attempts: 0, notBefore: 0, firstStart: 0, lostSince: 0, losses: 0 }))
    let inFlight = 0
    const allowed = name === 'canary' ? 0 : plan.allowedFailures
    const worker = async (): Promise<void> => {
      for (;;) {
        if (report.reason !== undefined) return
        const stop = stopReason()
        if (stop !== undefined) { [report.status, report.reason] = stop; return }
        const item = queue.shift()
        if (item === undefined) {
          if (inFlight === 0) return
          await sleep(20)
          continue
        }
        if (item.notBefore > Date.now()) await sleep(item.notBefore - Date.now())
        inFlight++
        report.inFlight++
        progress()
        item.attempts++
        const start = Date.now()
        if (item.firstStart === 0) item.firstStart = start
        const row = (status: LedgerRow['status'], from: string, to: string, error: string | null): LedgerRow => ({
          tenantId: item.tenant.id, fromVersion: from, version: to, status, error, startedAt: new Date(item.firstStart), finishedAt: new Date(), durationMs: Date.now() - start, attempts: item.attempts
        })
        try {
          const result = await migrateOne(item.tenant)
          // An attempt cut short by the outage may have committed before the server died: this run
          // then finds the tenant current, but it is still the run that took it from its old version.
          const mayHaveCommitted = item.losses > 0 && result.applied.length === 0 && result.from !== item.tenant.schemaVersion
          ledger.add(row('APPLIED', mayHaveCommitted ? item.tenant.schemaVersion : result.from, result.to, null))
          group.done++
          if (result.applied.length > 0 || mayHaveCommitted) {
            group.migrated++
            // Only a tenant whose schema changed loses its cached client.
            await deps.pool.evict(item.tenant.id)
          } else {
            group.current++
          }
        } catch (error) {
          const lost = isConnectionLoss(error)
          if (lost && (item.lostSince === 0 || Date.now() - item.lostSince < OUTAGE_GRACE_MS)) {
            // Not the tenant's fault and not counted against it: tried again once the server answers.
            if (item.lostSince === 0) deps.log.warn({ tenantId: item.tenant.id, err: error }, 'tenant server unreachable; the run waits for it')
            group.retries++
            queue.push({ ...item, attempts: item.attempts - 1, lostSince: item.lostSince || Date.now(), losses: item.losses + 1, notBefore: Date.now() + outageBackoff(item.losses) })
          } else if (retryable(error) && item.attempts < options.lockAttempts) {
            group.retries++
            queue.push({ ...item, lostSince: 0, notBefore: Date.now() + 200 * item.attempts })
          } else {
            const message = (error as Error).message
            ledger.add(row('FAILED', item.tenant.schemaVersion, item.tenant.schemaVersion, message.slice(0, 2000)))
            group.done++
            group.failed++
            report.failures.push({ tenantId: item.tenant.id, group: name, error: message, attempts: item.attempts })
            deps.log.warn({ tenantId: item.tenant.id, err: error }, 'tenant migration failed')
            if (report.failures.length > allowed && report.reason === undefined) {
              report.status = 'FAILED'
              report.reason = name === 'canary'
                ? `canary tenant ${item.tenant.id} failed; the rest were not started`
                : `${report.failures.length} tenants failed, more than the ${allowed} allowed`
            }
          }
        } finally {
          inFlight--
          report.inFlight--
        }
        progress()
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(plan.concurrency, tenants.length)) }, worker))
  }

  try {
    for (const server of plan.servers) {
      if (server.pending.length === 0) continue
      const row = serverRows.get(server.id)
      if (row === undefined) continue
      try {
        const result = await migrateTemplate(deps.servers.adminUrl(row), migrations, options.direction, options.target, options)
        report.templates.push({ server: server.name, ...result })
        deps.log.info({ server: server.name, ...result }, 'template migrated')
      } catch (error) {
        report.status = 'FAILED'
        report.reason = `template on server ${server.name} failed: ${(error as Error).message}`
        break
      }
      progress()
    }
    if (report.reason === undefined) await runGroup('canary', plan.canary)
    if (report.reason === undefined) await runGroup('rest', plan.rest)
  } finally {
    await ledger.close()
  }
  report.durationMs = Date.now() - started
  return report
}
