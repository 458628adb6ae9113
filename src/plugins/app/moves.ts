// Operating many servers (plugin 'moves'; 'fleet' runs migrations): server administration, live moves (with their recovery and the webhooks
// held during a freeze), organizations' own databases (BYOD) and key rotation, shared by the operator API and the CLI.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createKeyRotation, type KeyRotation } from '../../registry/key-rotation.js'
import { createServerAdmin, type ServerAdmin } from '../../registry/server-admin.js'
import { createByodServers } from '../../registry/byod-servers.js'
import { createByodService, type ByodService } from '../../tenancy/byod/byod-service.js'
import { createTenantLocation } from '../../registry/tenant-location.js'
import type { TenantMove } from '../../generated/registry/client.js'
import type { TelnyxMessageEvent } from '../../messaging/telnyx/webhook.js'
import { createWebhookHold, type WebhookHold } from '../../tenancy/moves/held-webhooks.js'
import { createMoveRecovery, type MoveRecovery } from '../../tenancy/moves/move-recovery.js'
import { createMoveService, DEFAULT_MOVE_SETTINGS, type MoveService, type MoveSettings, type MoveStep } from '../../tenancy/moves/move-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    serverAdmin: ServerAdmin
    moves: MoveService & { recovery: MoveRecovery, history: (tenantId: string) => Promise<TenantMove[]> }
    webhookHold: WebhookHold<TelnyxMessageEvent>
    keys: KeyRotation
    byod: ByodService
  }
}

export interface MovesOptions {
  /** Tests inject move faults and shorter timings here. */
  afterMoveStep?: (step: MoveStep, tenantId: string) => Promise<void> | void
  moveSettings?: Partial<MoveSettings>
}

// Abandoned moves freeze their tenant's writes until undone: checked far more often than sign-ups.
const MOVE_RECONCILE_MS = 15_000

async function movesPlugin (app: FastifyInstance, opts: MovesOptions): Promise<void> {
  const { registry, servers, secretBox, audit, directory, pool, config, log } = app
  const migrations = app.tenantMigrations
  const location = createTenantLocation({ registry, tenants: app.tenants, audit })
  // Messaging is registered after this plugin: its webhook pipeline is looked up per event.
  const hold = createWebhookHold<TelnyxMessageEvent>({
    registry,
    directory,
    tenantFor: async (number) => await app.phoneRoutes.tenantFor(number),
    handle: async (event) => await app.telnyxWebhooks.dispatch(event),
    log
  })
  const byodServers = createByodServers({ registry, secretBox, audit })
  const recovery = createMoveRecovery({ registry, servers, directory, location, audit, log, replayHeld: hold.replay, retireByod: byodServers.retire })
  const moves = createMoveService({
    registry,
    servers,
    directory,
    pool,
    location,
    audit,
    secretBox,
    migrations,
    installationId: app.installationId,
    settings: { ...DEFAULT_MOVE_SETTINGS, graceMs: config.moves.graceMs, settleMs: config.moves.settleMs, ...opts.moveSettings },
    log,
    replayHeld: hold.replay,
    undo: recovery.undo,
    dropOld: recovery.dropOld,
    afterStep: opts.afterMoveStep
  })
  app.decorate('serverAdmin', createServerAdmin({ registry, servers, secretBox, audit, tenantMigrations: migrations, log }))
  // A tenant's last moves, newest first (the operator API).
  const history = async (tenantId: string): Promise<TenantMove[]> => await registry.tenantMove.findMany({ where: { tenantId }, orderBy: { createdAt: 'desc' }, take: 100 })
  app.decorate('moves', { ...moves, recovery, history })
  app.decorate('webhookHold', hold)
  // An organization's own server serves one tenant: a small budget unless the operator says more.
  app.decorate('byod', createByodService({ registry, byodServers, moves, directory, audit, defaultConnectionBudget: Math.min(10, config.pool.connectionBudget), log }))
  app.decorate('keys', createKeyRotation({ registry, secretBox, location, audit, log }))
  // A move elsewhere switched the tenant: its cached client points at the old database.
  app.registryChanges.subscribe('tenant_moved', { onChange: (tenantId) => { void pool.evict(tenantId) }, onListening: () => {} })

  const reconcile = (): void => {
    recovery.reconcile().catch((error: unknown) => { log.error({ err: error }, 'move reconciler run failed') })
  }
  reconcile()
  const timer = setInterval(reconcile, MOVE_RECONCILE_MS)
  timer.unref()
  app.addHook('onClose', async () => { clearInterval(timer) })
}

export default fp(movesPlugin, { name: 'moves', dependencies: ['tenancy', 'fleet'] })
