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
import metrics from './plugins/app/metrics.js'
import errorHandler, { frameworkErrors } from './plugins/app/error-handler.js'
import registry from './plugins/app/registry.js'
import tenancy from './plugins/app/tenancy.js'
import auth from './plugins/app/auth.js'
import permissions from './plugins/app/permissions.js'
import team from './plugins/app/team.js'
import onboarding, { type OnboardingOptions } from './plugins/app/onboarding.js'
import jobs from './plugins/app/jobs.js'
import fleet from './plugins/app/fleet.js'
import lifecycle, { type LifecycleOptions } from './plugins/app/lifecycle.js'
import moves, { type MovesOptions } from './plugins/app/moves.js'
import messaging from './plugins/app/messaging.js'
import worker from './plugins/app/worker.js'
import publicRoutes from './routes/public/index.js'
import tenantRoutes from './routes/tenant/index.js'
import operatorRoutes from './routes/operator/index.js'

export interface BuildOptions {
  /** false silences the logger (tests); otherwise a pino destination stream may be given. */
  logger?: boolean | { stream: NodeJS.WritableStream }
  /** Sign-up's test hooks (provisioning faults); the key predates src/onboarding/ and tests use it. */
  tenancy?: OnboardingOptions
  /** Another tenant migrations folder (benchmarks and tests). */
  tenantMigrationsDir?: string
  /** false for fleet commands: templates are moved by the fleet run, not at start-up. */
  migrateTemplates?: boolean
  /** Grace periods, backup and export settings overridden by tests. */
  lifecycle?: LifecycleOptions
  /** Live moves: test faults and shorter timings. */
  moves?: MovesOptions
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
    // Start-up migrates the registry and the templates (waiting for another process's migration if
    // one holds the lock): on a busy database that is more than avvio's default 10 s per plugin.
    pluginTimeout: 120_000,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.addHook('onRequest', async (request, reply) => { void reply.header('x-request-id', request.id) })

  // Plugins first, external then ours; each decorates the app with the services the routes use.
  await app.register(swagger)
  await app.register(protection, { config })
  await app.register(errorHandler)
  // Before any route: every route registered after it must declare its permission.
  await app.register(permissions)
  await app.register(metrics)
  await app.register(textGuard)
  await app.register(commonResponses)
  await app.register(registry, { config, tenantMigrationsDir: options.tenantMigrationsDir, migrateTemplates: options.migrateTemplates })
  await app.register(rateLimits)
  await app.register(tenancy)
  await app.register(auth)
  await app.register(team)
  await app.register(onboarding, options.tenancy ?? {})
  await app.register(jobs)
  await app.register(fleet)
  await app.register(moves, options.moves ?? {})
  await app.register(messaging)
  await app.register(worker)
  await app.register(lifecycle, options.lifecycle ?? {})
  // Then the routes, in three encapsulated contexts: each decides what its routes get.
  await app.register(publicRoutes)
  await app.register(tenantRoutes)
  await app.register(operatorRoutes)
  await app.ready()
  return app
}
