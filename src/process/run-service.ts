// Runs a long-lived process (the API or the worker): configuration, the database (embedded unless
// DATABASE_URL is set), the app, and one graceful shutdown: drain the app and its pools first, then
// stop embedded PostgreSQL. Start-up failures end the process with one line.
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../app.js'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { resolveDatabase } from '../db/local-database.js'

export interface ServiceSpec {
  name: string
  graceMs: number
  /** Adjusts the configuration for this process (e.g. the standalone worker forces the worker on). */
  configure?: (config: Config) => Config
  /** Starts serving once the app is built (listen, or just log that the worker runs). */
  start: (app: FastifyInstance, config: Config) => Promise<void>
}

/**
 * A dependency failing must not end the process. pg-boss completes and fails jobs without awaiting
 * them (manager.js onFetch), so a job finishing while PostgreSQL is down rejects with nobody to catch
 * it, and Node's default for that is to exit. Those are logged; the process keeps running.
 */
export function keepRunningOnStrayRejections (log: { error: (obj: object, msg: string) => void }): void {
  process.on('unhandledRejection', (reason) => { log.error({ err: reason }, 'unhandled rejection, process kept running') })
}

async function run (spec: ServiceSpec): Promise<void> {
  const loaded = await loadConfig()
  const config = spec.configure?.(loaded) ?? loaded
  const { databaseUrl, embedded } = await resolveDatabase(config, (msg) => { process.stdout.write(msg + '\n') })
  let app: FastifyInstance
  try {
    app = await buildApp({ ...config, databaseUrl })
  } catch (error) {
    await embedded?.stop()
    throw error
  }
  keepRunningOnStrayRejections(app.log)
  let closing = false
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) return
    closing = true
    app.log.info({ signal }, `${spec.name} shutting down`)
    const force = setTimeout(() => { app.log.error(`${spec.name} shutdown took too long, exiting`); process.exit(1) }, spec.graceMs)
    force.unref()
    try {
      await app.close()
      await embedded?.stop()
      process.exit(0)
    } catch (error) {
      app.log.error({ err: error }, `${spec.name} shutdown failed`)
      process.exit(1)
    }
  }
  // `on`, not `once`: a repeated signal (tsx relays SIGTERM again when the child is slow to confirm
  // it) must find a listener, or the default action kills the process mid-shutdown with code 143.
  process.on('SIGINT', () => { void shutdown('SIGINT') })
  process.on('SIGTERM', () => { void shutdown('SIGTERM') })
  await spec.start(app, config)
}

export function runService (spec: ServiceSpec): void {
  run(spec).catch((error: unknown) => {
    const message = error instanceof ConfigError ? error.message : `${spec.name} start-up failed: ${error instanceof Error ? error.message : String(error)}`
    process.stderr.write(message + '\n')
    process.exit(1)
  })
}
