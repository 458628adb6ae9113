// Operator CLI: `npm run tenants -- <command>`. It builds the same services as the API (without
// listening) so every command follows the API's rules.
import { parseArgs } from 'node:util'
import { buildApp } from '../src/app.js'
import { ConfigError, loadConfig } from '../src/config.js'
import { resolveDatabase } from '../src/db/local-database.js'
import { withClient } from '../src/db/pg-admin.js'
import { fleetRequest, runFleetCommand, FLEET_OPTIONS, UsageError } from '../src/tenancy/fleet/cli.js'

const USAGE = `usage: npm run tenants -- <command>
  list [--status S]                 tenants with status, server and schema version
  migrate [--to V] [--canary N] [--concurrency N] [--max-failures N|P%] [--dry-run] [--json]
                                    templates first, then a canary group, then every other tenant (resumable)
  rollback [--to V] [same options]  run down scripts back to V (default: one version back), same groups
  verify [--json]                   ledgers against the files, each schema against its server's template
  migrate --registry-only           migrate the registry and the templates only (pre-deploy)
  reconcile                         finish or undo interrupted provisioning; drop orphans
  servers list                      database servers and their load
  servers add <name> <adminUrl> [--budget N]   register another PostgreSQL server for tenants`

async function main (): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { ...FLEET_OPTIONS, status: { type: 'string' }, budget: { type: 'string' }, 'registry-only': { type: 'boolean' } }
  })
  const [command, sub, ...rest] = positionals
  if (command === undefined || !['list', 'migrate', 'rollback', 'verify', 'reconcile', 'servers'].includes(command)) {
    process.stderr.write(USAGE + '\n')
    return command === undefined ? 0 : 2
  }
  if (command === 'migrate' || command === 'rollback') fleetRequest(command === 'migrate' ? 'up' : 'down', values)
  const config = await loadConfig({ ...process.env, WORKER_ENABLED: 'false' })
  const { databaseUrl, embedded } = await resolveDatabase(config, (msg) => { process.stderr.write(msg + '\n') })
  const fleetCommand = ['rollback', 'verify'].includes(command) || (command === 'migrate' && values['registry-only'] !== true)
  const app = await buildApp({ ...config, databaseUrl, logLevel: process.env.LOG_LEVEL ?? 'warn' }, {
    tenantMigrationsDir: values['migrations-dir'],
    // Fleet commands move the templates as the first group of the run, not at start-up.
    migrateTemplates: !fleetCommand
  })
  try {
    switch (command) {
      case 'list': {
        const tenants = await app.registry.tenant.findMany({
          where: values.status === undefined ? {} : { status: values.status as never },
          include: { server: { select: { name: true } } },
          orderBy: { createdAt: 'asc' }
        })
        console.table(tenants.map((t) => ({ id: t.id, name: t.name, status: t.status, server: t.server.name, schema: t.schemaVersion, created: t.createdAt.toISOString() })))
        return 0
      }
      case 'migrate': {
        if (values['registry-only'] === true) {
          process.stdout.write(`registry at ${app.readiness.registryVersion}, templates at ${JSON.stringify(app.readiness.templates)}\n`)
          return 0
        }
        return await runFleetCommand(app, 'migrate', values)
      }
      case 'rollback':
      case 'verify':
        return await runFleetCommand(app, command, values)
      case 'reconcile': {
        const report = await app.reconciler.run()
        process.stdout.write(JSON.stringify(report, null, 2) + '\n')
        return 0
      }
      case 'servers': {
        if (sub === 'add') {
          const [name, url] = rest
          if (name === undefined || url === undefined || !/^[a-z0-9-]{1,40}$/.test(name)) throw new Error('usage: servers add <name> <adminUrl> (name: lowercase letters, digits, dashes)')
          await withClient(url, async (c) => { await c.query('SELECT 1') })
          const server = await app.servers.upsertFromUrl(name, url, Number(values.budget ?? config.pool.connectionBudget))
          process.stdout.write(`server ${server.name} registered (${server.host}:${server.port}); its template is created at the next start or migrate\n`)
          return 0
        }
        console.table((await app.servers.list()).map((s) => ({ name: s.name, host: `${s.host}:${s.port}`, status: s.status, budget: s.connectionBudget })))
        return 0
      }
    }
    return 2
  } finally {
    await app.close()
    await embedded?.stop()
  }
}

main().then((code) => { process.exit(code) }, (error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : `tenants: ${(error as Error).message}`}\n`)
  process.exit(error instanceof UsageError || (error as { statusCode?: number }).statusCode === 400 ? 2 : 1)
})
