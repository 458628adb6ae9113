// SIGKILL in the middle of `npm run tenants -- migrate`: the next run applies only what is left and
// nothing twice (each tenant's migration and its ledger row commit together in its own database).
import { spawn } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { projectRoot } from '../../src/util/project-root.js'
import { TEST_SECRETS } from '../helper.js'
import { until } from '../helpers/wait.js'
import { fleetApp, fleetOf, inTenant, migrationsWith, tenantVersion } from '../helpers/fleet-fixture.js'

const PROBE = {
  version: '9001_probe_log',
  // The INSERT shows how often the file ran: more than one row means it was applied twice.
  up: 'CREATE TABLE "ProbeLog" (n integer);\nINSERT INTO "ProbeLog" VALUES (1);\nSELECT pg_sleep(0.4);\n',
  down: 'DROP TABLE "ProbeLog";\n'
}

t.test('a run killed with SIGKILL resumes: what is left is applied, nothing twice', async (t) => {
  const fleet = await fleetOf(t, 6)
  const dir = await migrationsWith([PROBE])
  const cli = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot(), 'scripts/tenants.ts'), 'migrate', '--migrations-dir', dir, '--concurrency', '1', '--canary', '1'], {
    cwd: projectRoot(),
    env: {
      // Not tap's loaders and coverage: the CLI is the operator's process, not a test.
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...TEST_SECRETS,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: fleet.config.databaseUrl,
      TENANT_DATABASE_URL: fleet.serverUrl,
      DATA_DIR: fleet.config.dataDir
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<NodeJS.Signals | null>((resolve) => cli.on('exit', (_code, signal) => { resolve(signal) }))
  const done = async (): Promise<string[]> => {
    const versions = await Promise.all(fleet.tenants.map(async (id) => await tenantVersion(fleet, `tenant_${id}`)))
    return fleet.tenants.filter((_, i) => versions[i] === PROBE.version)
  }
  await until(async () => (await done()).length >= 2, { timeoutMs: 60_000, intervalMs: 20, what: 'two tenants migrated by the CLI' })
  cli.kill('SIGKILL')
  t.equal(await exited, 'SIGKILL')
  // A statement under way when the client died still ends (committing or not) on the server.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const before = await done()
  t.ok(before.length < fleet.tenants.length, `killed mid-run: ${before.length} of ${fleet.tenants.length} migrated`)

  const app = await fleetApp(t, fleet, { tenantMigrationsDir: dir })
  const killed = await app.registry.fleetRun.findFirstOrThrow()
  t.equal(killed.status, 'RUNNING', 'the killed run was left active')
  const report = await app.fleet.runHere({ direction: 'up' })
  t.equal(report.status, 'SUCCEEDED')
  const migrated = report.groups.canary.migrated + report.groups.rest.migrated
  t.equal(migrated, fleet.tenants.length - before.length, 'only what was left was applied')
  t.equal((await app.registry.fleetRun.findUniqueOrThrow({ where: { id: killed.id } })).status, 'INTERRUPTED')
  for (const id of fleet.tenants) {
    const rows = await inTenant<{ n: number }>(fleet, id, 'SELECT count(*)::int AS n FROM "ProbeLog"')
    t.equal(rows[0]?.n, 1, `tenant ${id}: applied exactly once`)
    t.equal((await app.registry.tenant.findUniqueOrThrow({ where: { id } })).schemaVersion, PROBE.version)
  }
})
