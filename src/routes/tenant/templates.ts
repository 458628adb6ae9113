// Message templates and previews.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from './context.js'
import { createTemplateService } from '../../messaging/content/template-service.js'
import { errorResponses, IdParamsSchema, NoContentSchema } from '../../schemas/common.js'
import { PreviewRequestSchema, PreviewSchema, TemplateCreateSchema, TemplateListSchema, TemplateSchema, TemplateUpdateSchema } from '../../schemas/templates.js'

const common = { tags: ['templates'], security: [{ bearerAuth: [] }] }

const templateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = (request: Parameters<typeof tenantOf>[0]) => {
    const { db, tenant } = tenantOf(request)
    return createTemplateService(db, tenant.name)
  }

  app.get('/api/templates', { config: { permission: 'templates.manage' }, schema: { ...common, response: { 200: TemplateListSchema, ...errorResponses(401) } } },
    async (request) => await service(request).list())
  app.get('/api/templates/:id', { config: { permission: 'templates.manage' }, schema: { ...common, params: IdParamsSchema, response: { 200: TemplateSchema, ...errorResponses(401, 404) } } },
    async (request) => await service(request).get(request.params.id))
  app.post('/api/templates', { config: { permission: 'templates.manage' }, schema: { ...common, body: TemplateCreateSchema, response: { 201: TemplateSchema, ...errorResponses(400, 401, 409) } } },
    async (request, reply) => await reply.status(201).send(await service(request).create(request.body)))
  app.patch('/api/templates/:id', { config: { permission: 'templates.manage' }, schema: { ...common, params: IdParamsSchema, body: TemplateUpdateSchema, response: { 200: TemplateSchema, ...errorResponses(400, 401, 404, 409) } } },
    async (request) => await service(request).update(request.params.id, request.body))
  app.delete('/api/templates/:id', { config: { permission: 'templates.manage' }, schema: { ...common, params: IdParamsSchema, response: { 204: NoContentSchema, ...errorResponses(401, 404) } } },
    async (request, reply) => { await service(request).remove(request.params.id); return await reply.status(204).send(null) })
  app.post('/api/templates/preview', { config: { permission: 'templates.manage' }, schema: { ...common, body: PreviewRequestSchema, response: { 200: PreviewSchema, ...errorResponses(400, 401, 404) } } },
    async (request) => await service(request).preview(request.body))
}

export default templateRoutes
