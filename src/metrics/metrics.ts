// The Prometheus metrics of one process (prom-client, a registry of its own so several apps can share
// a process in tests). Labels are routes, statuses, steps, servers and outcomes only: never a tenant's
// data, a message's text, a token or a connection string.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** What /metrics reads at scrape time from the parts that keep their own counters. */
export interface MetricSources {
  pool?: () => { hits: number, misses: number, evictions: number, waiters: number, servers: Record<string, { clients: number, connectionCap: number, openConnections: number }> }
  webhooks?: () => { stored: number, duplicates: number, unrouted: number, rejected: number, invalid: number, ignored: number, statusEvents: number }
  queueDepth?: () => Promise<Record<string, number>>
}

export type SendOutcome = 'sent' | 'retry' | 'failed' | 'skipped'

/**
 * Progress of one fleet migration run, as the fleet migrator reports it: tenants finished (migrated,
 * already current or failed), failed, and being migrated right now, out of the tenants it planned.
 */
export interface FleetProgress { runId: string, total: number, done: number, migrated: number, failed: number, inFlight: number }
export type FleetResult = 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'INTERRUPTED'

export function createMetrics () {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const sources: MetricSources = {}

  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: SECONDS,
    registers: [registry]
  })

  /** A counter whose value is read from its source at scrape time. */
  const readCounter = (name: string, help: string, read: () => number | undefined): void => {
    // eslint-disable-next-line no-new
    new Counter({ name, help, registers: [registry], collect () { const v = read(); if (v !== undefined) { this.reset(); this.inc(v) } } })
  }
  readCounter('tenant_pool_hits_total', 'Tenant client acquisitions served by a cached client', () => sources.pool?.().hits)
  readCounter('tenant_pool_misses_total', 'Tenant client acquisitions that had to open a client', () => sources.pool?.().misses)
  readCounter('tenant_pool_evictions_total', 'Tenant clients closed to make room', () => sources.pool?.().evictions)
  // eslint-disable-next-line no-new
  new Gauge({ name: 'tenant_pool_waiters', help: 'Acquirers waiting for room in the tenant pool', registers: [registry], collect () { const s = sources.pool?.(); if (s !== undefined) this.set(s.waiters) } })
  const perServer = (name: string, help: string, pick: (s: { clients: number, connectionCap: number, openConnections: number }) => number): void => {
    // eslint-disable-next-line no-new
    new Gauge({
      name,
      help,
      labelNames: ['server'],
      registers: [registry],
      collect () {
        this.reset()
        for (const [server, s] of Object.entries(sources.pool?.().servers ?? {})) this.set({ server }, pick(s))
      }
    })
  }
  perServer('tenant_pool_clients', 'Open tenant clients per database server', (s) => s.clients)
  perServer('tenant_pool_connections', 'Open tenant connections per database server', (s) => s.openConnections)
  perServer('tenant_pool_connection_budget', 'Connection budget per database server', (s) => s.connectionCap)
  const missDuration = new Histogram({ name: 'tenant_pool_miss_duration_seconds', help: 'Time to open a tenant client on a pool miss', labelNames: ['server'], buckets: SECONDS, registers: [registry] })

  const provisioningStep = new Histogram({ name: 'provisioning_step_duration_seconds', help: 'Duration of each sign-up step', labelNames: ['step'], buckets: SECONDS, registers: [registry] })
  const provisioningDuration = new Histogram({ name: 'provisioning_duration_seconds', help: 'Duration of a whole sign-up', buckets: SECONDS, registers: [registry] })
  const provisioningFailures = new Counter({ name: 'provisioning_failures_total', help: 'Sign-ups that failed, by the step that failed', labelNames: ['step'], registers: [registry] })

  // eslint-disable-next-line no-new
  new Counter({
    name: 'telnyx_webhook_events_total',
    help: 'Telnyx webhook events by outcome',
    labelNames: ['outcome'],
    registers: [registry],
    collect () {
      const s = sources.webhooks?.()
      if (s === undefined) return
      this.reset()
      const outcomes = { stored: s.stored, duplicate: s.duplicates, unrouted: s.unrouted, refused: s.rejected + s.invalid, ignored: s.ignored, status: s.statusEvents }
      for (const [outcome, value] of Object.entries(outcomes)) this.inc({ outcome }, value)
    }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'queue_depth',
    help: 'Jobs waiting in each queue',
    labelNames: ['queue'],
    registers: [registry],
    async collect () {
      const depths = await sources.queueDepth?.().catch(() => undefined)
      this.reset()
      for (const [queue, depth] of Object.entries(depths ?? {})) this.set({ queue }, depth)
    }
  })
  const sendOutcomes = new Counter({ name: 'message_send_outcomes_total', help: 'Outbound message sends by outcome', labelNames: ['outcome'], registers: [registry] })

  const fleetTenants = new Gauge({ name: 'fleet_migration_tenants', help: 'Tenants of the current (or last) fleet migration run by state', labelNames: ['run', 'state'], registers: [registry] })
  // Only the latest run keeps series: a process that ran many would otherwise export every one forever.
  let fleetRun: string | undefined
  const fleetRuns = new Counter({ name: 'fleet_migration_runs_total', help: 'Fleet migration runs by result', labelNames: ['result'], registers: [registry] })

  return {
    registry,
    /** Lets the app plug in what is read at scrape time (the pool, webhook counters, queue sizes). */
    setSources (given: MetricSources) { Object.assign(sources, given) },
    httpRequest (method: string, route: string, statusCode: number, seconds: number) {
      httpDuration.observe({ method, route, status_code: String(statusCode) }, seconds)
    },
    poolMiss (server: string, seconds: number) { missDuration.observe({ server }, seconds) },
    provisioningStep (step: string, seconds: number) { provisioningStep.observe({ step }, seconds) },
    provisioningDone (seconds: number) { provisioningDuration.observe(seconds) },
    provisioningFailed (step: string) { provisioningFailures.inc({ step }) },
    sendOutcomes (outcomes: Array<{ kind: SendOutcome }>) {
      for (const outcome of outcomes) sendOutcomes.inc({ outcome: outcome.kind })
    },
    /** The small interface a fleet migration run reports through: progress as it goes, then its result. */
    fleet: {
      progress (p: FleetProgress) {
        if (fleetRun !== p.runId) fleetTenants.reset()
        fleetRun = p.runId
        const states = { total: p.total, done: p.done, migrated: p.migrated, failed: p.failed, in_flight: p.inFlight, remaining: Math.max(0, p.total - p.done) }
        for (const [state, value] of Object.entries(states)) fleetTenants.set({ run: p.runId, state }, value)
      },
      finished (result: FleetResult) { fleetRuns.inc({ result: result.toLowerCase() }) }
    },
    async render (): Promise<string> { return await registry.metrics() },
    contentType: registry.contentType
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/**
 * Times the steps of one sign-up: each recorded step is observed with the time since the previous
 * one; a failure is counted against the step after the last one reached.
 */
export function provisioningTimer (metrics: Pick<Metrics, 'provisioningStep' | 'provisioningDone' | 'provisioningFailed'>, steps: readonly string[]) {
  const runs = new Map<string, { started: number, last: number, reached: string }>()
  return {
    started (tenantId: string) { runs.set(tenantId, { started: Date.now(), last: Date.now(), reached: 'REQUESTED' }) },
    step (step: string, tenantId: string) {
      const run = runs.get(tenantId)
      if (run === undefined) return
      metrics.provisioningStep(step, (Date.now() - run.last) / 1000)
      run.last = Date.now()
      run.reached = step
      if (step === steps.at(-1)) {
        metrics.provisioningDone((Date.now() - run.started) / 1000)
        runs.delete(tenantId)
      }
    },
    failed (tenantId: string) {
      const run = runs.get(tenantId)
      runs.delete(tenantId)
      const next = steps[steps.indexOf(run?.reached ?? 'REQUESTED') + 1] ?? 'UNKNOWN'
      metrics.provisioningFailed(next)
    }
  }
}
