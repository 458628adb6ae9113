// Liveness and readiness for load balancers and Render's health check.
import { HealthSchema, ReadySchema } from '../../schemas/health.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', { config: { permission: 'public' }, schema: { tags: ['ops'], response: { 200: HealthSchema } } }, async () => ({ status: 'ok' as const }))

  app.get('/ready', { config: { permission: 'public' }, schema: { tags: ['ops'], response: { 200: ReadySchema, 503: ReadySchema } } }, async (_request, reply) => {
    const { readiness } = app
    let registryVersion = 'unknown'
    let reachable = false
    try {
      registryVersion = await app.registryVersion()
      reachable = true
    } catch {
      reachable = false
    }
    const templateVersions = Object.values(readiness.templates)
    const checks = {
      registry: reachable,
      registryMigrated: registryVersion === readiness.expectedRegistryVersion,
      templateReady: templateVersions.length > 0 && templateVersions.every((v) => v === readiness.expectedTenantVersion)
    }
    const ready = Object.values(checks).every(Boolean)
    return await reply.status(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      checks,
      registryVersion,
      tenantSchemaVersion: readiness.expectedTenantVersion
    })
  })
}

export default healthRoutes
