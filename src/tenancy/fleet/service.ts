// Fleet migrations as a service: plan (also the dry run), run here (the CLI), queue for the worker
// (the operator API) and execute a queued run (the worker, also after a restart).
import type { Migration } from '../../db/migrator.js'
import type { Metrics } from '../../metrics/metrics.js'
import type { FleetRuns, RunLock } from '../../registry/fleet-runs.js'
import type { RegistryClient } from '../../registry/registry-client.js'
import type { ServerDirectory } from '../../registry/servers.js'
import type { TenantPool } from '../tenant-pool.js'
import type { FleetRequest } from './options.js'
import { planFleetRun, type FleetPlan } from './plan.js'
import { executeFleetPlan, type FleetReport, type RunHooks } from './run.js'
import { verifyFleet, type VerifyReport } from './verify.js'

export interface FleetServiceDeps {
  registry: Pick<RegistryClient, 'tenant'>
  runs: FleetRuns
  servers: Pick<ServerDirectory, 'list' | 'adminUrl'>
  pool: Pick<TenantPool, 'borrow' | 'evict' | 'slots'>
  migrations: Migration[]
  /** Told each run's progress and result (app.metrics.fleet). */
  metrics?: Pick<Metrics['fleet'], 'progress' | 'finished'>
  log: { info: (obj: unknown, msg?: string) => void, warn: (obj: unknown, msg?: string) => void }
}

const newRun = (plan: FleetPlan, request: FleetRequest, origin: 'cli' | 'api') => ({
  direction: plan.options.direction === 'up' ? 'UP' as const : 'DOWN' as const,
  targetVersion: plan.options.target,
  origin,
  options: { ...request, target: plan.options.target, dryRun: false }
})

export function createFleetService (deps: FleetServiceDeps) {
  const { runs, migrations } = deps

  function observe (runId: string, report: FleetReport): void {
    const { canary, rest } = report.groups
    deps.metrics?.progress({
      runId,
      total: canary.total + rest.total,
      done: canary.done + rest.done,
      migrated: canary.migrated + rest.migrated,
      failed: canary.failed + rest.failed,
      inFlight: report.inFlight
    })
  }

  async function plan (request: FleetRequest): Promise<FleetPlan> {
    return await planFleetRun({ registry: deps.registry, servers: deps.servers, slots: deps.pool.slots }, migrations, request)
  }

  async function execute (planned: FleetPlan, runId: string, lock: RunLock, hooks: Omit<RunHooks, 'runId'>): Promise<FleetReport> {
    try {
      const report = await executeFleetPlan(planned, migrations, {
        servers: deps.servers,
        pool: deps.pool,
        ledger: { flush: async (rows, progress) => await runs.flush(runId, rows, progress) },
        log: deps.log
      }, { ...hooks, runId, onProgress: (report) => { observe(runId, report); hooks.onProgress?.(report) } })
      observe(runId, report)
      deps.metrics?.finished(report.status)
      // An interrupted run stays active: the worker (or the next CLI run) carries on from here.
      if (report.status !== 'INTERRUPTED') await runs.finish(runId, report.status, report.reason)
      return report
    } catch (error) {
      await runs.finish(runId, 'FAILED', (error as Error).message).catch(() => {})
      throw error
    } finally {
      await lock.release()
    }
  }

  /** The CLI: validate and plan, then run in this process. */
  async function runHere (request: FleetRequest, hooks: Omit<RunHooks, 'runId'> = {}): Promise<FleetReport> {
    const planned = await plan(request)
    const { id, lock } = await runs.startHere(newRun(planned, request, 'cli'))
    return await execute(planned, id, lock, hooks)
  }

  /** The operator API: validated and planned now (bad input is a 400 here), run by the worker. */
  async function enqueue (request: FleetRequest): Promise<{ id: string, plan: FleetPlan }> {
    const planned = await plan(request)
    const { id } = await runs.enqueue(newRun(planned, request, 'api'))
    return { id, plan: planned }
  }

  /** The worker: runs a queued or interrupted run unless another process has it or it is over. */
  async function executeQueued (runId: string, hooks: Omit<RunHooks, 'runId'> = {}): Promise<FleetReport | undefined> {
    const lock = await runs.claim(runId)
    if (lock === undefined) return undefined
    let planned: FleetPlan
    try {
      const row = await runs.get(runId)
      planned = await plan(row.run.options as unknown as FleetRequest)
    } catch (error) {
      await runs.finish(runId, 'FAILED', (error as Error).message).catch(() => {})
      await lock.release()
      throw error
    }
    return await execute(planned, runId, lock, hooks)
  }

  async function verify (options: { concurrency?: number } = {}): Promise<VerifyReport> {
    return await verifyFleet({ registry: deps.registry, servers: deps.servers, pool: deps.pool, migrations }, options)
  }

  return { plan, verify, runHere, enqueue, executeQueued, get: runs.get, cancel: runs.cancel, resumable: runs.resumable }
}

export type FleetService = ReturnType<typeof createFleetService>
