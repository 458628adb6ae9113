// Operator CLI: `npm run tenants -- <command>`. It builds the same services as the API (without
// listening) so every command follows the API's rules.
import { parseArgs } from 'node:util'
import { buildApp } from '../src/app.js'
import { ConfigError, loadConfig } from '../src/config.js'
import { resolveDatabase } from '../src/db/local-database.js'
import { fleetRequest, runFleetCommand, FLEET_OPTIONS, UsageError } from '../src/tenancy/fleet/cli.js'
import { CLI_ACTOR, serversCommand } from './tenants-servers.js'
import { databaseCommand } from './tenants-database.js'

const USAGE = `usage: npm run tenants -- <command>
  list [--status S]                 tenants with status, server and schema version
  migrate [--to V] [--canary N] [--concurrency N] [--max-failures N|P%] [--dry-run] [--json]
                                    templates first, then a canary group, then every other tenant (resumable)
  rollback [--to V] [same options]  run down scripts back to V (default: one version back), same groups
  verify [--json]                   ledgers against the files, each schema against its server's template
  migrate --registry-only           migrate the registry and the templates only (pre-deploy)
  reconcile                         finish or undo interrupted provisioning; drop orphans
  backup <id> | --all               back up one tenant, or every tenant (as the nightly run does)
  restore <id> [--backup B] [--as-new]   restore the newest (or the given) backup and switch the tenant
                                    to it; --as-new restores beside it for inspection instead
  delete <id> --now                 delete the organization now: databases, role, registry rows, Stripe
                                    customer, backups and their key; prints the deletion report
  servers list                      database servers: kind, status, load and a health check made now
  servers add <name> <adminUrl> [--kind SHARED|DEDICATED] [--budget N] [--max-tenants N]
                                    validate (reachable, PostgreSQL 14+, CREATEDB and CREATEROLE),
                                    create its template, then record it
  move <id> --to <server> [--copy]  move a tenant to another server; writes are frozen only for the final
                                    catch-up (logical replication), or for the copy with --copy or where
                                    the servers cannot replicate
  database set <id> [url|-] [--budget N]
                                    give a tenant its organization's own PostgreSQL (BYOD): validated,
                                    schema built by the migrator, tenant moved there by copy (URL read
                                    from stdin when omitted or -, never printed)
  database test <id> [url|-]        check the tenant's stored connection, or a candidate URL
  keys rotate                       re-encrypt every stored credential under the current key
                                    (ENCRYPTION_KEY_ID; the old keys stay readable via ENCRYPTION_KEYS)
  servers drain|disable|enable <name>   stop new tenants / take out of service (empty only) / back in`

async function main (): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      ...FLEET_OPTIONS,
      status: { type: 'string' },
      budget: { type: 'string' },
      kind: { type: 'string' },
      'max-tenants': { type: 'string' },
      'registry-only': { type: 'boolean' },
      copy: { type: 'boolean' },
      all: { type: 'boolean' },
      backup: { type: 'string' },
      'as-new': { type: 'boolean' },
      now: { type: 'boolean' }
    }
  })
  const [command, sub, ...rest] = positionals
  if (command === undefined || !['list', 'migrate', 'rollback', 'verify', 'reconcile', 'servers', 'move', 'keys', 'database', 'backup', 'restore', 'delete'].includes(command)) {
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
        const report = { ...await app.reconciler.run(), moves: await app.moves.recovery.reconcile() }
        process.stdout.write(JSON.stringify(report, null, 2) + '\n')
        return 0
      }
      case 'backup': {
        if (values.all === true) {
          const report = await app.backups.backupAll({
            concurrency: Number(values.concurrency ?? config.lifecycle.backupConcurrency),
            kind: 'daily',
            onProgress: (done, total) => { process.stderr.write(`\r${done}/${total} tenants backed up`) }
          })
          process.stderr.write('\n')
          for (const failure of report.failed) process.stdout.write(`FAILED ${failure.tenantId}: ${failure.error}\n`)
          process.stdout.write(`${report.total} tenants: ${report.completed.length} backed up, ${report.failed.length} failed, ${report.pruned} old backups pruned\n`)
          return report.failed.length > 0 ? 1 : 0
        }
        if (sub === undefined) throw new Error('usage: backup <tenantId> | --all')
        const backup = await app.backups.backup(sub, 'manual')
        process.stdout.write(`backup ${backup.id} of ${sub}: ${String(backup.bytes)} bytes, schema ${backup.schemaVersion}\n`)
        return 0
      }
      case 'restore': {
        if (sub === undefined) throw new Error('usage: restore <tenantId> [--backup B] [--as-new]')
        const result = await app.restores.restore(sub, { backupId: values.backup, asNew: values['as-new'] === true })
        const rows = result.tables.reduce((sum, t) => sum + t.rows, 0)
        process.stdout.write(result.state === 'SWITCHED'
          ? `tenant ${sub} restored from ${result.backupId} (${rows} rows verified) and switched to ${result.databaseName}; ${result.oldDatabaseName ?? ''} is kept until ${result.dropAfter?.toISOString() ?? ''}\n`
          : `backup ${result.backupId} restored beside tenant ${sub} as ${result.databaseName} (${rows} rows verified); dropped after ${result.dropAfter?.toISOString() ?? ''}\n`)
        return 0
      }
      case 'delete': {
        if (sub === undefined || values.now !== true) throw new Error('usage: delete <tenantId> --now (owners schedule deletion with a grace period through the API)')
        const report = await app.hardDelete.hardDelete(sub, { requestedBy: 'operator', reason: 'deleted by an operator from the command line' })
        process.stdout.write(JSON.stringify(report, null, 2) + '\n')
        return 0
      }
      case 'servers': return await serversCommand(app, sub, rest, values)
      case 'database': return await databaseCommand(app, sub, rest, values)
      case 'keys': {
        if (sub !== 'rotate') throw new Error('usage: keys rotate')
        const report = await app.keys.rotate(CLI_ACTOR)
        process.stdout.write(`credentials now under key ${report.keyId}: ${report.tenants} tenants and ${report.servers} servers re-encrypted, ${report.skipped} changed meanwhile (run again), ${report.failed.length} unreadable\n`)
        for (const f of report.failed) process.stdout.write(`FAILED ${f.id}: ${f.error}\n`)
        return report.failed.length > 0 ? 1 : 0
      }
      case 'move': {
        if (sub === undefined || typeof values.to !== 'string') throw new Error('usage: move <tenantId> --to <server> [--copy]')
        const report = await app.moves.move(sub, values.to, { actor: CLI_ACTOR, method: values.copy === true ? 'COPY' : undefined })
        process.stdout.write(`moved ${report.tenantId} from ${report.from} to ${report.to} (${report.method}): writes frozen ${report.freezeMs} ms, ${report.rows} rows, ${report.totalMs} ms in all\n`)
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
