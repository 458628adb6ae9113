// Members: CRUD with search and cursor pages, and CSV import (its own text/csv parser and body limit).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from './context.js'
import { createMemberService } from '../../members/member-service.js'
import { importMembers } from '../../members/member-import.js'
import { errorResponses, IdParamsSchema, NoContentSchema } from '../../schemas/common.js'
import { ImportResultSchema, MemberCreateSchema, MemberListQuerySchema, MemberPageSchema, MemberSchema, MemberUpdateSchema } from '../../schemas/members.js'

const IMPORT_BODY_LIMIT = 5 * 1024 * 1024
const common = { tags: ['members'], security: [{ bearerAuth: [] }] }

const memberRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = (request: Parameters<typeof tenantOf>[0]) => createMemberService(tenantOf(request).db)

  app.get('/api/members', { config: { permission: 'members.read' }, schema: { ...common, querystring: MemberListQuerySchema, response: { 200: MemberPageSchema, ...errorResponses(400, 401) } } },
    async (request) => await service(request).list(request.query))
  app.get('/api/members/:id', { config: { permission: 'members.read' }, schema: { ...common, params: IdParamsSchema, response: { 200: MemberSchema, ...errorResponses(401, 404) } } },
    async (request) => await service(request).get(request.params.id))
  app.post('/api/members', { config: { permission: 'members.manage' }, schema: { ...common, body: MemberCreateSchema, response: { 201: MemberSchema, ...errorResponses(400, 401, 409) } } },
    async (request, reply) => await reply.status(201).send(await service(request).create(request.body)))
  app.patch('/api/members/:id', { config: { permission: 'members.manage' }, schema: { ...common, params: IdParamsSchema, body: MemberUpdateSchema, response: { 200: MemberSchema, ...errorResponses(400, 401, 404, 409) } } },
    async (request) => await service(request).update(request.params.id, request.body))
  app.delete('/api/members/:id', { config: { permission: 'members.manage' }, schema: { ...common, params: IdParamsSchema, response: { 204: NoContentSchema, ...errorResponses(401, 404) } } },
    async (request, reply) => { await service(request).remove(request.params.id); return await reply.status(204).send(null) })

  await app.register(async (csv) => {
    csv.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_req, body, done) => { done(null, body) })
    csv.post('/api/members/import', {
      config: { permission: 'members.manage' },
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: { ...common, consumes: ['text/csv'], response: { 200: ImportResultSchema, ...errorResponses(400, 401, 413, 415) } }
    }, async (request) => await importMembers(tenantOf(request).db, typeof request.body === 'string' ? request.body : ''))
  })
}

export default memberRoutes
