// Branches (groups) and their members.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from './context.js'
import { createBranchService } from '../../members/branch-service.js'
import { errorResponses, IdParamsSchema, NoContentSchema } from '../../schemas/common.js'
import { BranchCreateSchema, BranchListSchema, BranchSchema, BranchUpdateSchema, MemberIdsSchema } from '../../schemas/members.js'

const common = { tags: ['branches'], security: [{ bearerAuth: [] }] }

const branchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = (request: Parameters<typeof tenantOf>[0]) => createBranchService(tenantOf(request).db)

  app.get('/api/branches', { config: { permission: 'branches.manage' }, schema: { ...common, response: { 200: BranchListSchema, ...errorResponses(401) } } },
    async (request) => await service(request).list())
  app.get('/api/branches/:id', { config: { permission: 'branches.manage' }, schema: { ...common, params: IdParamsSchema, response: { 200: BranchSchema, ...errorResponses(401, 404) } } },
    async (request) => await service(request).get(request.params.id))
  app.post('/api/branches', { config: { permission: 'branches.manage' }, schema: { ...common, body: BranchCreateSchema, response: { 201: BranchSchema, ...errorResponses(400, 401, 409) } } },
    async (request, reply) => await reply.status(201).send(await service(request).create(request.body)))
  app.patch('/api/branches/:id', { config: { permission: 'branches.manage' }, schema: { ...common, params: IdParamsSchema, body: BranchUpdateSchema, response: { 200: BranchSchema, ...errorResponses(400, 401, 404, 409) } } },
    async (request) => await service(request).update(request.params.id, request.body))
  app.delete('/api/branches/:id', { config: { permission: 'branches.manage' }, schema: { ...common, params: IdParamsSchema, response: { 204: NoContentSchema, ...errorResponses(401, 404) } } },
    async (request, reply) => { await service(request).remove(request.params.id); return await reply.status(204).send(null) })
  app.post('/api/branches/:id/members', { config: { permission: 'branches.manage' }, schema: { ...common, params: IdParamsSchema, body: MemberIdsSchema, response: { 200: BranchSchema, ...errorResponses(400, 401, 404) } } },
    async (request) => await service(request).addMembers(request.params.id, request.body.memberIds))
  app.delete('/api/branches/:id/members', { config: { permission: 'branches.manage' }, schema: { ...common, params: IdParamsSchema, body: MemberIdsSchema, response: { 200: BranchSchema, ...errorResponses(400, 401, 404) } } },
    async (request) => await service(request).removeMembers(request.params.id, request.body.memberIds))
}

export default branchRoutes
