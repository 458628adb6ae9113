// Assigning phone numbers to the signed-in organization.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, NoContentSchema } from '../../schemas/common.js'
import { PhoneNumberBodySchema, PhoneNumberListSchema, PhoneNumberParamsSchema, PhoneNumberSchema } from '../../schemas/phone-numbers.js'
import { tenantOf } from './context.js'
import type { PhoneNumberView } from '../../registry/phone-numbers.js'

const view = (v: PhoneNumberView) => ({ phoneNumber: v.phoneNumber, isPrimary: v.isPrimary, createdAt: v.createdAt.toISOString() })

const phoneNumberRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Numbers live in the registry: these routes take no tenant database lease.
  app.addHook('onRoute', (route) => { route.config = { ...route.config, tenantDb: false } })
  const tags = ['phone-numbers']
  const security = [{ bearerAuth: [] }]

  app.get('/api/phone-numbers', {
    config: { permission: 'numbers.manage' },
    schema: { tags, security, response: { 200: PhoneNumberListSchema, ...errorResponses(401, 403) } }
  }, async (request) => {
    const numbers = await app.phoneNumbers.list(tenantOf(request).tenant.id)
    return { phoneNumbers: numbers.map(view), primaryPhoneNumber: numbers.find((n) => n.isPrimary)?.phoneNumber ?? null }
  })

  app.post('/api/phone-numbers', {
    config: { permission: 'numbers.manage' },
    schema: { tags, security, body: PhoneNumberBodySchema, response: { 200: PhoneNumberSchema, 201: PhoneNumberSchema, ...errorResponses(400, 401, 403, 409) } }
  }, async (request, reply) => {
    const { view: added, created } = await app.phoneNumbers.add(tenantOf(request).tenant.id, request.body.phoneNumber)
    return await reply.status(created ? 201 : 200).send(view(added))
  })

  app.delete('/api/phone-numbers/:phoneNumber', {
    config: { permission: 'numbers.manage' },
    schema: { tags, security, params: PhoneNumberParamsSchema, response: { 204: NoContentSchema, ...errorResponses(400, 401, 403, 404) } }
  }, async (request, reply) => {
    await app.phoneNumbers.remove(tenantOf(request).tenant.id, request.params.phoneNumber)
    return await reply.status(204).send(null)
  })
}

export default phoneNumberRoutes
