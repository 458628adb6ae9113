// Operator API for database servers and the audit trail (guarded by the operator context).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { AuditPageSchema, AuditQuerySchema, RotationReportSchema, ServerAddSchema, ServerSchema, ServerTransitionParamsSchema } from '../../schemas/servers.js'
import { Type } from '@sinclair/typebox'

export const OPERATOR_API_ACTOR = 'operator:api'

const platformServerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const common = { tags: ['platform'], security: [{ bearerAuth: [] }] }

  app.get('/api/platform/servers', {
    config: { permission: 'operator' },
    schema: { ...common, response: { 200: Type.Object({ servers: Type.Array(ServerSchema) }), ...errorResponses(401, 403) } }
  }, async () => ({ servers: await app.serverAdmin.list() }))

  app.post('/api/platform/servers', {
    config: { permission: 'operator' },
    schema: { ...common, body: ServerAddSchema, response: { 201: ServerSchema, ...errorResponses(400, 401, 403, 409) } }
  }, async (request, reply) => await reply.status(201).send(await app.serverAdmin.add({ ...request.body, actor: OPERATOR_API_ACTOR })))

  app.post('/api/platform/servers/:name/:action', {
    config: { permission: 'operator' },
    schema: { ...common, params: ServerTransitionParamsSchema, response: { 200: ServerSchema, ...errorResponses(401, 403, 404, 409) } }
  }, async (request) => await app.serverAdmin.transition(request.params.name, request.params.action, OPERATOR_API_ACTOR))

  app.post('/api/platform/keys/rotate', {
    config: { permission: 'operator' },
    schema: { ...common, response: { 200: RotationReportSchema, ...errorResponses(401, 403) } }
  }, async () => await app.keys.rotate(OPERATOR_API_ACTOR))

  app.get('/api/platform/audit', {
    config: { permission: 'operator' },
    schema: { ...common, querystring: AuditQuerySchema, response: { 200: AuditPageSchema, ...errorResponses(400, 401, 403) } }
  }, async (request) => {
    const { since, until, ...rest } = request.query
    const page = await app.audit.page({ ...rest, since: since === undefined ? undefined : new Date(since), until: until === undefined ? undefined : new Date(until) })
    return { ...page, entries: page.entries.map((e) => ({ ...e, before: e.before as Record<string, unknown> | null, after: e.after as Record<string, unknown> | null, detail: e.detail as Record<string, unknown> | null, createdAt: e.createdAt.toISOString() })) }
  })
}

export default platformServerRoutes
