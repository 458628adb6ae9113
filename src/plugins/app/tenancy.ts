// Tenant routing machinery: the directory, the phone-number routes, the tenants module (the only
// writer of Tenant rows) and the bounded client pool, shared by routes, webhooks and the worker.
import fp from 'fastify-plugin'
import { closeAdminPools } from '../../db/pg-admin.js'
import type { FastifyInstance } from 'fastify'
import { createRouteCache, type RouteCache } from '../../registry/phone-routes.js'
import { createAuditLog, type AuditLog } from '../../registry/audit-log.js'
import { createTenantDirectory, type TenantDirectory } from '../../registry/tenant-directory.js'
import { createTenantStore, type TenantStore } from '../../registry/tenants.js'
import { createTenantPool, type TenantPool } from '../../tenancy/tenant-pool.js'
import { createClientStock } from '../../tenancy/client-stock.js'

declare module 'fastify' {
  interface FastifyInstance {
    directory: TenantDirectory
    /** Which tenant owns a phone number: inbound messages and delivery status both route through it. */
    phoneRoutes: RouteCache
    tenants: TenantStore
    pool: TenantPool
    audit: AuditLog
  }
}

async function tenancyPlugin (app: FastifyInstance): Promise<void> {
  const { config, registry, secretBox, servers } = app
  const directory = createTenantDirectory({ registry, secretBox })
  const phoneRoutes = createRouteCache({ registry })
  app.registryChanges.subscribe('phone_number_changed', { onChange: phoneRoutes.invalidate, onListening: phoneRoutes.setAnnounced })
  // A server's budget is for every process together (TENANT_POOL_PROCESSES of them): this one's share.
  const share = (budget: number): number => Math.max(1, Math.floor(budget / config.pool.processes))
  const budgets = new Map((await servers.list()).map((s) => [s.id, share(s.connectionBudget)]))
  // Built ahead, so a miss pays for its connection and not for a query compiler too.
  const stock = createClientStock({ size: config.pool.clientStock, log: app.log })
  const pool = createTenantPool({
    maxClients: config.pool.maxClients,
    connectionBudget: (serverId: string) => budgets.get(serverId) ?? share(config.pool.connectionBudget),
    connectionsPerClient: config.pool.connectionsPerClient,
    idleMs: config.pool.idleMs,
    resolve: async (tenantId: string) => await directory.connectionInfo(tenantId),
    stock,
    log: app.log,
    onMiss: (serverId, ms) => { app.metrics.poolMiss(serverId, ms / 1000) }
  })
  // A changed tenant may live in another database now (a restore or a move switched it): then its
  // cached client goes too, drained first. A tenant that is gone loses its client as well.
  app.registryChanges.subscribe('tenant_changed', {
    onChange: (tenantId) => {
      directory.invalidate(tenantId)
      directory.connectionInfo(tenantId)
        .then(async (info) => { await pool.evictIfMoved(tenantId, info.url) }, async () => { await pool.evict(tenantId) })
        .catch((error: unknown) => { app.log.warn({ err: error, tenantId }, 'could not drop a changed tenant\'s client') })
    },
    onListening: directory.setAnnounced
  })
  app.decorate('directory', directory)
  app.decorate('phoneRoutes', phoneRoutes)
  app.decorate('tenants', createTenantStore({ registry, directory }))
  app.decorate('pool', pool)
  app.decorate('audit', createAuditLog({ registry }))
  // Servers added or changed by another process get their connection budget here.
  const timer = setInterval(() => {
    servers.list().then((rows) => { for (const s of rows) budgets.set(s.id, share(s.connectionBudget)) }, () => {})
  }, config.reconcileIntervalMs)
  timer.unref()
  app.addHook('onReady', async () => { stock.refill() })
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await pool.close()
    await stock.close()
    await closeAdminPools()
  })
}

export default fp(tenancyPlugin, { name: 'tenancy', dependencies: ['registry', 'metrics'] })
