// Renders every error as { statusCode, code, message, requestId } and hides 5xx details.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERRORS, fromPrismaError } from '../../errors.js'

// Fastify's own error codes, renamed to the stable codes clients see.
const FASTIFY_CODES: Record<string, { code: string, statusCode?: number, message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', message: 'Request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', message: 'Request body is empty' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', statusCode: 413, message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', statusCode: 415 },
  FST_ERR_VALIDATION: { code: 'VALIDATION_ERROR', statusCode: 400 },
  FST_ERR_RATE_LIMIT: { code: 'TOO_MANY_REQUESTS', statusCode: 429 }
}

// The codes of our own error model (errors.ts), read off an instance of each.
const OWN_CODES = new Set(Object.values(ERRORS).map((E) => new (E as new (...args: string[]) => { code: string })('', '').code))

// What the router refuses before any route (and so before setErrorHandler) sees the request; the URL
// is not echoed back (it may carry anything).
const ROUTER_ERRORS: Record<string, { statusCode: number, code: string, message: string }> = {
  FST_ERR_BAD_URL: { statusCode: 400, code: 'BAD_URL', message: 'The URL is not valid (bad percent-encoding)' },
  FST_ERR_MAX_PARAM_LENGTH: { statusCode: 414, code: 'PATH_PARAMETER_TOO_LONG', message: 'A path parameter is too long' }
}

/** Fastify's frameworkErrors option: router errors rendered in the one error shape. */
export function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known = ROUTER_ERRORS[error.code] ?? { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' }
  void reply.status(known.statusCode).send({ ...known, requestId: String(request.id) })
}

async function errorHandler (app: FastifyInstance): Promise<void> {
  app.setErrorHandler((raw: FastifyError, request, reply) => {
    const error = fromPrismaError(raw) ?? raw
    const known = FASTIFY_CODES[error.code ?? '']
    let statusCode = known?.statusCode ?? error.statusCode ?? 500
    if (error.validation !== undefined) statusCode = 400
    if (statusCode < 400 || statusCode > 599) statusCode = 500
    let code = error.validation !== undefined ? 'VALIDATION_ERROR' : known?.code ?? error.code ?? 'ERROR'
    let message = known?.message ?? error.message
    if (statusCode >= 500) {
      request.log.error({ err: raw }, 'request failed')
      // Our own 5xx (a 502 from the carrier, a 503 to retry) tell the caller what to do; anything else
      // is hidden behind one generic 500.
      if (!OWN_CODES.has(error.code ?? '') || statusCode === 500) {
        statusCode = 500
        code = 'INTERNAL_ERROR'
        message = 'Internal server error'
      }
    } else {
      request.log.info({ code, statusCode, message }, 'request rejected')
    }
    if (statusCode === 429 && reply.getHeader('retry-after') === undefined && error.code === 'TOO_MANY_ATTEMPTS') reply.header('retry-after', '60')
    if (statusCode === 503 && reply.getHeader('retry-after') === undefined) reply.header('retry-after', error.code === 'TENANT_MOVING' ? '1' : '5')
    // Some client errors carry more for the caller, e.g. the organizations to choose from.
    const details = statusCode < 500 ? (error as { details?: Record<string, unknown> }).details : undefined
    void reply.status(statusCode).send({ ...details, statusCode, code, message, requestId: String(request.id) })
  })

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      statusCode: 404,
      code: 'ROUTE_NOT_FOUND',
      message: `Route ${request.method} ${request.url.split('?')[0] ?? ''} not found`,
      requestId: String(request.id)
    })
  })
}

export default fp(errorHandler, { name: 'error-handler' })
