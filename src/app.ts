// Builds the Fastify application from a validated Config. Tests and src/server.ts both use it; it never
// reads process.env and never starts a database.
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'
import swagger from './plugins/external/swagger.js'
import protection from './plugins/external/protection.js'
import textGuard from './plugins/app/text-guard.js'
import commonResponses from './plugins/app/common-responses.js'
import rateLimits from './plugins/app/rate-limits.js'
import metrics, { metricsRoutes } from './plugins/app/metrics.js'
import errorHandler, { frameworkErrors } from './plugins/app/error-handler.js'
import registry from './plugins/app/registry.js'
import tenancy, { type TenancyOptions } from './plugins/app/tenancy.js'
import auth from './plugins/app/auth.js'
import healthRoutes from './routes/health.js'
import authRoutes from './routes/auth.js'
import meRoutes from './routes/me.js'
import platformRoutes from './routes/platform.js'
import worker from './plugins/app/worker.js'
import memberRoutes from './routes/members.js'
import branchRoutes from './routes/branches.js'
import templateRoutes from './routes/templates.js'
import messageRoutes from './routes/messages.js'
import recurringRoutes from './routes/recurring-messages.js'
import messaging from './plugins/app/messaging.js'
import phoneNumberRoutes from './routes/phone-numbers.js'
import conversationRoutes from './routes/conversations.js'
import telnyxWebhookRoutes, { webhookStatsRoutes } from './routes/telnyx-webhook.js'
import stripeWebhookRoutes from './routes/stripe-webhook.js'

export interface BuildOptions {
  /** false silences the logger (tests); otherwise a pino destination stream may be given. */
  logger?: boolean | { stream: NodeJS.WritableStream }
  tenancy?: TenancyOptions
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/

export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const logger = options.logger === false
    ? false
    : { ...loggerOptions(config.logLevel), ...(typeof options.logger === 'object' ? { stream: options.logger.stream } : {}) }
  const app = Fastify({
    logger,
    bodyLimit: 1024 * 1024,
    // Slow or oversized requests are cut off instead of holding a connection (Node answers 431 / 408).
    http: { maxHeaderSize: config.protection.maxHeaderBytes },
    requestTimeout: config.protection.requestTimeoutMs,
    frameworkErrors,
    // Client IPs drive login rate limits: X-Forwarded-For is believed only from configured proxies.
    // (A hop count is valid at run time though Fastify's types only list the other forms.)
    trustProxy: config.trustProxy as boolean | string | string[],
    requestIdHeader: false,
    // A well-formed request id from a proxy is kept so that logs line up across services.
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.addHook('onRequest', async (request, reply) => { void reply.header('x-request-id', request.id) })

  await app.register(swagger)
  await app.register(protection, { config })
  await app.register(errorHandler)
  await app.register(metrics)
  await app.register(textGuard)
  await app.register(commonResponses)
  await app.register(registry, { config })
  await app.register(rateLimits)
  await app.register(tenancy, options.tenancy ?? {})
  await app.register(auth)
  await app.register(healthRoutes)
  await app.register(authRoutes)
  await app.register(meRoutes)
  await app.register(platformRoutes)
  await app.register(worker)
  await app.register(memberRoutes)
  await app.register(branchRoutes)
  await app.register(templateRoutes)
  await app.register(messageRoutes)
  await app.register(recurringRoutes)
  await app.register(messaging)
  await app.register(phoneNumberRoutes)
  await app.register(conversationRoutes)
  await app.register(telnyxWebhookRoutes)
  await app.register(webhookStatsRoutes)
  await app.register(stripeWebhookRoutes)
  await app.register(metricsRoutes)
  await app.ready()
  return app
}
