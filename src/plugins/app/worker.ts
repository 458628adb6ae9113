// pg-boss in the registry database (schema pgboss): routes enqueue through app.boss whether or not
// this process works the queue; with config.worker.enabled the messaging worker runs here too.
// Also provides app.deliveryStatus for the Telnyx webhook.
import fp from 'fastify-plugin'
import PgBoss from 'pg-boss'
import type { FastifyInstance } from 'fastify'
import { createBroadcastService, type BroadcastService } from '../../messaging/campaigns/broadcast-service.js'
import { createDeliveryStatus, type DeliveryStatus } from '../../messaging/sending/delivery-status.js'
import { ensureQueues } from '../../messaging/sending/send-queue.js'
import { createTelnyxSender } from '../../messaging/telnyx/sender.js'
import { createMessagingWorker, type MessagingWorker } from '../../messaging/sending/worker.js'

declare module 'fastify' {
  interface FastifyInstance {
    boss: PgBoss
    broadcasts: BroadcastService
    messagingWorker: MessagingWorker
    deliveryStatus: DeliveryStatus
  }
}

async function workerPlugin (app: FastifyInstance): Promise<void> {
  const { config } = app
  const boss = new PgBoss({ connectionString: config.databaseUrl, schema: 'pgboss', max: 5, application_name: 'church-sms-boss' })
  boss.on('error', (error: unknown) => { app.log.error({ err: error }, 'pg-boss error') })
  await boss.start()
  await ensureQueues(boss)
  const sender = createTelnyxSender({
    apiKey: config.telnyx.apiKey,
    baseUrl: config.telnyx.baseUrl,
    messagingProfileId: config.telnyx.messagingProfileId,
    webhookUrl: `${config.publicUrl}/webhooks/telnyx`,
    log: app.log
  })
  const deliveryStatus = createDeliveryStatus({ registry: app.registry, pool: app.pool, boss })
  const worker = createMessagingWorker({
    boss,
    deliveryStatus,
    pool: app.pool,
    directory: app.directory,
    registry: app.registry,
    sender,
    log: app.log,
    ratePerSecondPerNumber: config.messaging.ratePerSecond,
    quietHours: { start: config.messaging.quietHoursStart, end: config.messaging.quietHoursEnd },
    onOutcomes: (outcomes) => { app.metrics.sendOutcomes(outcomes) }
  })
  app.decorate('boss', boss)
  app.decorate('broadcasts', createBroadcastService({ boss }))
  app.decorate('messagingWorker', worker)
  app.decorate('deliveryStatus', deliveryStatus)
  if (config.worker.enabled) await worker.start()
  // Registered after tenancy, so this runs before the pool closes: in-flight jobs finish first.
  app.addHook('onClose', async () => {
    await worker.stop()
    await boss.stop({ graceful: true, wait: true, timeout: 15_000 })
  })
}

export default fp(workerPlugin, { name: 'worker', dependencies: ['tenancy'] })
