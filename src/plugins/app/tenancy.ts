// Tenant routing machinery: the directory, the bounded client pool, billing, provisioning and the
// reconciler (run at start-up and on a timer), shared by routes, webhooks and the worker.
import fp from 'fastify-plugin'
import { closeAdminPools } from '../../db/pg-admin.js'
import type { FastifyInstance } from 'fastify'
import { createBilling, type Billing } from '../../billing/billing-service.js'
import { provisioningTimer } from '../../metrics/metrics.js'
import { createProvisioningService, PROVISIONING_STEPS, type ProvisioningService, type ProvisioningStep } from '../../onboarding/sign-up.js'
import { createReconciler, type Reconciler } from '../../tenancy/reconciler.js'
import { createTenantDirectory, type TenantDirectory } from '../../registry/tenant-directory.js'
import { createTenantPool, type TenantPool } from '../../tenancy/tenant-pool.js'

declare module 'fastify' {
  interface FastifyInstance {
    directory: TenantDirectory
    pool: TenantPool
    billing: Billing
    provisioning: ProvisioningService
    reconciler: Reconciler
  }
}

export interface TenancyOptions {
  /** Tests inject provisioning faults here. */
  afterProvisioningStep?: (step: ProvisioningStep, tenantId: string) => Promise<void> | void
}

async function tenancyPlugin (app: FastifyInstance, opts: TenancyOptions): Promise<void> {
  const { config, registry, secretBox, servers } = app
  const directory = createTenantDirectory({ registry, secretBox })
  app.registryChanges.subscribe('tenant_changed', { onChange: directory.invalidate, onListening: directory.setAnnounced })
  const budgets = new Map((await servers.list()).map((s) => [s.id, s.connectionBudget]))
  const pool = createTenantPool({
    maxClients: config.pool.maxClients,
    connectionBudget: (serverId: string) => budgets.get(serverId) ?? config.pool.connectionBudget,
    connectionsPerClient: config.pool.connectionsPerClient,
    idleMs: config.pool.idleMs,
    resolve: async (tenantId: string) => await directory.connectionInfo(tenantId),
    log: app.log,
    onMiss: (serverId, ms) => { app.metrics.poolMiss(serverId, ms / 1000) }
  })
  const billing = createBilling({
    secretKey: config.stripe.secretKey,
    apiBaseUrl: config.stripe.apiBaseUrl,
    priceId: config.stripe.priceId,
    trialDays: config.stripe.trialDays,
    log: app.log
  })
  const provisioning = createProvisioningService({
    registry,
    servers,
    directory,
    pool,
    billing,
    secretBox,
    emailHashKey: config.secrets.emailHashKey,
    expectedTenantVersion: app.readiness.expectedTenantVersion,
    installationId: app.installationId,
    log: app.log,
    afterStep: opts.afterProvisioningStep,
    observer: provisioningTimer(app.metrics, PROVISIONING_STEPS)
  })
  const reconciler = createReconciler({ registry, servers, provisioning, installationId: app.installationId, log: app.log })
  app.decorate('directory', directory)
  app.decorate('pool', pool)
  app.decorate('billing', billing)
  app.decorate('provisioning', provisioning)
  app.decorate('reconciler', reconciler)

  await reconciler.run()
  const timer = setInterval(() => {
    reconciler.run().catch((error: unknown) => { app.log.error({ err: error }, 'reconciler run failed') })
  }, config.reconcileIntervalMs)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await pool.close()
    await closeAdminPools()
  })
}

export default fp(tenancyPlugin, { name: 'tenancy', dependencies: ['registry', 'metrics'] })
