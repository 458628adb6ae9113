// The operator context: /api/platform/* and GET /metrics, behind the PLATFORM_ADMIN_TOKEN bearer token (disabled when
// it is unset). Every route registered here is guarded without a line of its own; a new one is one line below.
import type { FastifyInstance } from 'fastify'
import { operatorGuard } from '../../auth/operator-token.js'
import { metricsRoutes } from '../../plugins/app/metrics.js'

export default async function operatorRoutes (app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', operatorGuard(app.config.platformAdminToken))
  await app.register(import('./platform.js'))
  await app.register(import('./webhooks.js'))
  await app.register(import('./migrations.js'))
  await app.register(import('./outbox.js'))
  await app.register(import('./platform-backups.js'))
  await app.register(import('./platform-deletions.js'))
  await app.register(import('./servers.js'))
  await app.register(import('./moves.js'))
  await app.register(import('./byod.js'))
  await app.register(metricsRoutes)
}
