// `npm run worker`: the job worker alone, without HTTP. It builds the same app (registry, tenancy,
// pg-boss, the messaging worker) but never listens; SIGINT/SIGTERM stop pg-boss gracefully so that
// in-flight jobs finish (or return to the queue) before the pools and embedded PostgreSQL close.
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { resolveDatabase } from './db/local-database.js'

const SHUTDOWN_GRACE_MS = 30_000

async function main (): Promise<void> {
  const config = await loadConfig()
  const { databaseUrl, embedded } = await resolveDatabase(config, (msg) => { process.stdout.write(msg + '\n') })
  let app
  try {
    app = await buildApp({ ...config, databaseUrl, worker: { enabled: true } })
  } catch (error) {
    await embedded?.stop()
    throw error
  }
  app.log.info('worker running (no HTTP)')
  let closing = false
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'worker shutting down')
    const force = setTimeout(() => { app.log.error('worker shutdown took too long, exiting'); process.exit(1) }, SHUTDOWN_GRACE_MS)
    force.unref()
    try {
      await app.close()
      await embedded?.stop()
      process.exit(0)
    } catch (error) {
      app.log.error({ err: error }, 'worker shutdown failed')
      process.exit(1)
    }
  }
  // `on`, not `once`: a repeated signal (tsx relays SIGTERM again when the child is slow to confirm
  // it) must find a listener, or the default action kills the process mid-shutdown with code 143.
  process.on('SIGINT', () => { void shutdown('SIGINT') })
  process.on('SIGTERM', () => { void shutdown('SIGTERM') })
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : `worker start-up failed: ${error instanceof Error ? error.message : String(error)}`
  process.stderr.write(message + '\n')
  process.exit(1)
})
