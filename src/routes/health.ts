// Liveness and readiness for load balancers and Render's health check.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const HealthSchema = Type.Object({ status: Type.Literal('ok') })
const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Object({
    registry: Type.Boolean(),
    registryMigrated: Type.Boolean(),
    templateReady: Type.Boolean()
  }),
  registryVersion: Type.String(),
  tenantSchemaVersion: Type.String()
})

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', { config: { permission: 'public' }, schema: { tags: ['ops'], response: { 200: HealthSchema } } }, async () => ({ status: 'ok' as const }))

  app.get('/ready', { config: { permission: 'public' }, schema: { tags: ['ops'], response: { 200: ReadySchema, 503: ReadySchema } } }, async (_request, reply) => {
    const { readiness } = app
    let registryVersion = 'unknown'
    let reachable = false
    try {
      const rows = await app.registry.$queryRawUnsafe<Array<{ version: string }>>('SELECT version FROM migrator.applied ORDER BY version DESC LIMIT 1')
      registryVersion = rows[0]?.version ?? 'none'
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
