// The messaging worker: with config.worker.enabled it works the send, recurring, sweep and delivery
// retry queues in this process; otherwise it is built (tests and the CLI drive it) but not started.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createMessagingWorker, type MessagingWorker } from '../../messaging/sending/worker.js'

declare module 'fastify' {
  interface FastifyInstance {
    messagingWorker: MessagingWorker
  }
}

async function workerPlugin (app: FastifyInstance): Promise<void> {
  const { config } = app
  const worker = createMessagingWorker({
    boss: app.boss,
    deliveryStatus: app.deliveryStatus,
    pool: app.pool,
    directory: app.directory,
    registry: app.registry,
    sender: app.telnyx.sender,
    log: app.log,
    ratePerSecondPerNumber: config.messaging.ratePerSecond,
    quietHours: { start: config.messaging.quietHoursStart, end: config.messaging.quietHoursEnd },
    onOutcomes: (outcomes) => { app.metrics.sendOutcomes(outcomes) }
  })
  app.decorate('messagingWorker', worker)
  if (config.worker.enabled) await worker.start()
  // Registered after tenancy and jobs, so this runs before pg-boss and the pool close.
  app.addHook('onClose', async () => { await worker.stop() })
}

export default fp(workerPlugin, { name: 'worker', dependencies: ['jobs', 'messaging'] })
