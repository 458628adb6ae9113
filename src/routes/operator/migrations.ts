// Operator API for fleet migrations: start a run (executed by the worker), follow it, cancel it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../../schemas/common.js'
import { PlanSummarySchema, RunIdParamsSchema, RunSchema, StartRunSchema } from '../../schemas/fleet.js'
import type { FleetPlan } from '../../tenancy/fleet/plan.js'
import type { FleetService } from '../../tenancy/fleet/service.js'

const planSummary = (plan: FleetPlan) => ({
  direction: plan.options.direction,
  target: plan.options.target,
  servers: plan.servers.map((s) => ({ name: s.name, templateVersion: s.templateVersion, pending: s.pending })),
  groups: { canary: plan.canary.length, rest: plan.rest.length },
  upToDate: plan.upToDate,
  concurrency: plan.concurrency,
  allowedFailures: plan.allowedFailures,
  tenants: [...plan.canary.map((t) => ({ ...t, group: 'canary' })), ...plan.rest.map((t) => ({ ...t, group: 'rest' }))].slice(0, 500)
    .map((t) => ({ id: t.id, group: t.group, schemaVersion: t.schemaVersion, pending: t.pending }))
})

type RunView = Awaited<ReturnType<FleetService['get']>>
const runView = ({ run, failures, ledger }: RunView) => {
  const progress = run.progress as { groups?: unknown, templates?: Array<{ server: string, from: string, to: string }> } | null
  return {
    id: run.id,
    status: run.status,
    direction: run.direction,
    targetVersion: run.targetVersion,
    origin: run.origin,
    cancelRequested: run.cancelRequested,
    error: run.error,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    groups: (progress?.groups ?? null) as never,
    templates: (progress?.templates ?? []).map((x) => ({ server: x.server, from: x.from, to: x.to })),
    ledger,
    failures
  }
}

const platformMigrationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ bearerAuth: [] }]

  app.post('/api/platform/migrations', {
    config: { permission: 'operator' },
    schema: {
      tags: ['platform'],
      security,
      body: StartRunSchema,
      response: { 200: Type.Object({ plan: PlanSummarySchema }), 202: Type.Object({ id: Type.String(), status: Type.String(), plan: PlanSummarySchema }), ...errorResponses(400, 401, 403, 409) }
    }
  }, async (request, reply) => {
    const { dryRun, ...body } = request.body
    if (dryRun) return { plan: planSummary(await app.fleet.plan(body)) }
    const queued = await app.fleet.queue(body)
    return await reply.code(202).send({ id: queued.id, status: 'QUEUED', plan: planSummary(queued.plan) })
  })

  app.get('/api/platform/migrations/:id', {
    config: { permission: 'operator' },
    schema: { tags: ['platform'], security, params: RunIdParamsSchema, response: { 200: RunSchema, ...errorResponses(401, 403, 404) } }
  }, async (request) => runView(await app.fleet.get(request.params.id)))

  app.post('/api/platform/migrations/:id/cancel', {
    config: { permission: 'operator' },
    schema: { tags: ['platform'], security, params: RunIdParamsSchema, response: { 202: RunSchema, ...errorResponses(401, 403, 404) } }
  }, async (request, reply) => {
    await app.fleet.cancel(request.params.id)
    return await reply.code(202).send(runView(await app.fleet.get(request.params.id)))
  })
}

export default platformMigrationRoutes
