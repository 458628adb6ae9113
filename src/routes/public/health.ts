// Liveness and readiness for load balancers and Render's health check.
import { HealthSchema, ReadySchema } from '../../schemas/health.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

// A server that hangs (stopped, or behind a network that drops packets) answers nothing at all: the
// probe gives up well within a load balancer's health-check timeout and reports it, instead of
// hanging with it. Its query is left to finish whenever the server wakes.
export const READY_PROBE_TIMEOUT_MS = 2000

async function withinProbeTimeout<T> (work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('probe timed out')) }, READY_PROBE_TIMEOUT_MS) })
  work.catch(() => {})
  return await Promise.race([work, timeout]).finally(() => { clearTimeout(timer) })
}

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', { config: { permission: 'public' }, schema: { tags: ['ops'], response: { 200: HealthSchema } } }, async () => ({ status: 'ok' as const }))

  app.get('/ready', { config: { permission: 'public' }, schema: { tags: ['ops'], response: { 200: ReadySchema, 503: ReadySchema } } }, async (_request, reply) => {
    const { readiness } = app
    let registryVersion = 'unknown'
    let reachable = false
    try {
      registryVersion = await withinProbeTimeout(app.registryVersion())
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
