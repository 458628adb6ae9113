// `npm run worker`: the job worker alone, without HTTP. It builds the same app (registry, tenancy,
// pg-boss, the messaging worker) but never listens; SIGINT/SIGTERM stop pg-boss gracefully so that
// in-flight jobs finish (or return to the queue) before the pools and embedded PostgreSQL close.
import { runService } from './process/run-service.js'

runService({
  name: 'worker',
  graceMs: 30_000,
  configure: (config) => ({ ...config, worker: { enabled: true } }),
  start: async (app) => { app.log.info('worker running (no HTTP)') }
})
