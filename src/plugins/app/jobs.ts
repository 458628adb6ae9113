// pg-boss in the registry database (schema pgboss): routes and webhooks enqueue through app.boss
// whether or not this process works the queues (the worker plugin decides that).
import fp from 'fastify-plugin'
import PgBoss from 'pg-boss'
import type { FastifyInstance } from 'fastify'
import { ensureQueues } from '../../messaging/sending/send-queue.js'

declare module 'fastify' {
  interface FastifyInstance {
    boss: PgBoss
  }
}

async function jobsPlugin (app: FastifyInstance): Promise<void> {
  const boss = new PgBoss({ connectionString: app.config.databaseUrl, schema: 'pgboss', max: 5, application_name: 'church-sms-boss' })
  boss.on('error', (error: unknown) => { app.log.error({ err: error }, 'pg-boss error') })
  await boss.start()
  await ensureQueues(boss)
  app.decorate('boss', boss)
  // Registered before the worker plugin, so this runs after it: in-flight jobs finish first.
  app.addHook('onClose', async () => { await boss.stop({ graceful: true, wait: true, timeout: 15_000 }) })
}

export default fp(jobsPlugin, { name: 'jobs', dependencies: ['registry'] })
