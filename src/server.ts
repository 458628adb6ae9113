// `npm start`: the HTTP API (with the message worker inside unless WORKER_ENABLED=false).
import { runService } from './process/run-service.js'

runService({
  name: 'api',
  graceMs: 20_000,
  start: async (app, config) => { await app.listen({ port: config.port, host: config.host }) }
})
