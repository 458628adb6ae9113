// OpenAPI document built from the route schemas, served at /docs (UI) and /docs/json.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

async function swaggerPlugin (app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: { title: 'Church SMS platform API', version: '0.1.0', description: 'Multi-tenant SMS messaging for churches and non-profits: one PostgreSQL database per organization.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      tags: [
        { name: 'auth' }, { name: 'account' }, { name: 'members' }, { name: 'messages' },
        { name: 'conversations' }, { name: 'phone-numbers' }, { name: 'webhooks' }, { name: 'platform' }, { name: 'ops' }
      ]
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
}

export default fp(swaggerPlugin, { name: 'swagger' })
