// Fleet migrations (src/tenancy/fleet/): app.fleet for the CLI and the operator API; with the worker
// enabled, runs started through the API are executed here from the pg-boss queue, and a run left
// unfinished by a restart is queued again at start-up (it resumes: finished tenants are skipped), and
// every RESUME_EVERY_MS after: a run whose executor gave up while the registry was unreachable (its
// final write failed, the run lock's session died with the server) is taken up again without a restart.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createQueueSafely } from '../../db/create-queue.js'
import { createFleetRuns } from '../../registry/fleet-runs.js'
import { createFleetService, type FleetService } from '../../tenancy/fleet/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    fleet: FleetService & { queue: (request: Parameters<FleetService['enqueue']>[0]) => ReturnType<FleetService['enqueue']> }
  }
}

export const FLEET_QUEUE = 'fleet-migration'
const RESUME_EVERY_MS = 60_000

async function fleetPlugin (app: FastifyInstance): Promise<void> {
  const { config, boss } = app
  const runs = createFleetRuns({ registry: app.registry, registryUrl: config.databaseUrl as string, tenants: app.tenants })
  const service = createFleetService({ registry: app.registry, runs, servers: app.servers, pool: app.pool, migrations: app.tenantMigrations, metrics: app.metrics.fleet, log: app.log })
  // A run survives its worker (its progress is in the registry), so pg-boss itself never retries one.
  await createQueueSafely(boss, FLEET_QUEUE, { name: FLEET_QUEUE, retryLimit: 0, expireInSeconds: 6 * 3600 })

  /** Queues a validated run for a worker (the operator API). */
  async function queue (request: Parameters<FleetService['enqueue']>[0]): ReturnType<FleetService['enqueue']> {
    const queued = await service.enqueue(request)
    await boss.send(FLEET_QUEUE, { runId: queued.id })
    return queued
  }
  app.decorate('fleet', { ...service, queue })

  if (!config.worker.enabled) return
  const shutdown = new AbortController()
  const running = new Set<Promise<unknown>>()
  // Runs executing in this process: never claimed a second time here, even when their lock was lost.
  const here = new Set<string>()
  await boss.work<{ runId: string }>(FLEET_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async (jobs) => {
    for (const job of jobs) {
      if (here.has(job.data.runId)) continue
      here.add(job.data.runId)
      const execution = service.executeQueued(job.data.runId, { signal: shutdown.signal })
      running.add(execution)
      try {
        const report = await execution
        if (report !== undefined) app.log.info({ runId: job.data.runId, status: report.status, reason: report.reason }, 'fleet migration run ended')
      } catch (error) {
        app.log.error({ runId: job.data.runId, err: error }, 'fleet migration run failed')
      } finally {
        running.delete(execution)
        here.delete(job.data.runId)
      }
    }
  })
  const resume = async (): Promise<void> => {
    for (const runId of await service.resumable()) if (!here.has(runId)) await boss.send(FLEET_QUEUE, { runId })
  }
  await resume()
  const resumer = setInterval(() => { resume().catch((error: unknown) => { app.log.warn({ err: error }, 'fleet run resume check failed') }) }, RESUME_EVERY_MS)
  resumer.unref()
  // Registered after the jobs plugin, so this runs before pg-boss stops: the run stops after the
  // tenants in flight and stays resumable.
  app.addHook('onClose', async () => {
    clearInterval(resumer)
    shutdown.abort()
    await Promise.allSettled([...running])
  })
}

export default fp(fleetPlugin, { name: 'fleet', dependencies: ['jobs', 'tenancy'] })
