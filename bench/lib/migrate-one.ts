// The baseline of the fleet benchmark: one process per tenant, as a per-tenant CLI would do it. It
// loads the migration files, connects, applies what is pending (src/db/migrator.ts) and exits.
// Usage: node --import tsx bench/lib/migrate-one.ts <databaseUrl> <migrationsDir>
import { loadMigrations, migrateUp } from '../../src/db/migrator.js'
import { withClient } from '../../src/db/pg-admin.js'

const [url, dir] = process.argv.slice(2)
if (url === undefined || dir === undefined) throw new Error('usage: migrate-one.ts <databaseUrl> <migrationsDir>')
const migrations = await loadMigrations(dir)
const result = await withClient(url, async (client) => await migrateUp(client, migrations))
if (result.applied.length === 0) throw new Error(`nothing applied to ${url.replace(/\/\/[^@]*@/, '//')}`)
