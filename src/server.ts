// Starts the API: configuration, the database (embedded unless DATABASE_URL is set), the app, and a
// graceful shutdown that drains the server and pools before stopping embedded PostgreSQL.
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { resolveDatabase } from './db/local-database.js'

const SHUTDOWN_GRACE_MS = 20_000

async function main (): Promise<void> {
  const config = await loadConfig()
  const { databaseUrl, embedded } = await resolveDatabase(config, (msg) => { process.stdout.write(msg + '\n') })
  let app
  try {
    app = await buildApp({ ...config, databaseUrl })
  } catch (error) {
    await embedded?.stop()
    throw error
  }
  let closing = false
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    const force = setTimeout(() => { app.log.error('shutdown took too long, exiting'); process.exit(1) }, SHUTDOWN_GRACE_MS)
    force.unref()
    try {
      await app.close()
      await embedded?.stop()
      process.exit(0)
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed')
      process.exit(1)
    }
  }
  process.once('SIGINT', () => { void shutdown('SIGINT') })
  process.once('SIGTERM', () => { void shutdown('SIGTERM') })
  await app.listen({ port: config.port, host: config.host })
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : `start-up failed: ${error instanceof Error ? error.message : String(error)}`
  process.stderr.write(message + '\n')
  process.exit(1)
})
