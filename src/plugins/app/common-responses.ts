// Documents, on every route, the errors every route can answer whatever its own schema says: 400 (bad
// input, text PostgreSQL cannot store), 503 OVERLOADED (load shedding), 414 for a path parameter
// past maxParamLength, and for requests with a body 413 and 415. The OpenAPI document then lists every status a client can see (the fuzzer checks it).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ErrorSchema } from '../../schemas/common.js'
import { NEVER_SHED } from '../external/protection.js'

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

async function commonResponses (app: FastifyInstance): Promise<void> {
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) return
    route.schema ??= {}
    const response = (route.schema.response ??= {}) as Record<string, unknown>
    const add = (status: number): void => { response[status] ??= ErrorSchema }
    add(400)
    if (!NEVER_SHED.has(route.url)) add(503)
    if (route.url.includes(':')) add(414)
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (methods.some((method) => WITH_BODY.has(method))) { add(413); add(415) }
  })
}

export default fp(commonResponses, { name: 'common-responses' })
