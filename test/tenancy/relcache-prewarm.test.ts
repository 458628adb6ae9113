// The relation cache init file check a fleet run uses to skip its prewarm connection: present after a
// backend wrote it, gone after a change to a system catalog's relcache entry, back after a prewarm,
// and "not present" (so: prewarm) for a role that may not look at server files.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { buildDatabaseUrl, parseDatabaseUrl, quoteIdent, quoteLiteral, withClient, withDatabase } from '../../src/db/pg-admin.js'
import { prewarmRelationCache, relationCacheInitFilePresent } from '../../src/tenancy/relcache-prewarm.js'
import { testServerUrl } from '../helper.js'

const server = await testServerUrl()
const name = `relcache_${randomBytes(4).toString('hex')}`
const url = withDatabase(server, name)

t.before(async () => { await withClient(server, async (c) => { await c.query(`CREATE DATABASE ${quoteIdent(name)}`) }) })
t.teardown(async () => { await withClient(server, async (c) => { await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`) }) })

t.test('present once a backend wrote it, gone after a catalog rewrite, back after a prewarm', async (t) => {
  await prewarmRelationCache(url)
  t.equal(await withClient(url, relationCacheInitFilePresent), true)
  // A user table's DDL leaves the file alone (what fleet migrations do) ...
  await withClient(url, async (c) => { await c.query('CREATE TABLE t (id int); CREATE INDEX t_id ON t (id); ALTER TABLE t ADD COLUMN x text') })
  t.equal(await withClient(url, relationCacheInitFilePresent), true, 'kept after CREATE TABLE, CREATE INDEX, ADD COLUMN')
  // ... a new relfilenode for pg_class changes a relcache entry the file holds. Asked on the same
  // connection, as a fleet run does: any new backend would write the file again as it starts.
  t.equal(await withClient(url, async (c) => {
    await c.query('VACUUM FULL pg_class')
    return await relationCacheInitFilePresent(c)
  }), false, 'removed at commit')
  await prewarmRelationCache(url)
  t.equal(await withClient(url, relationCacheInitFilePresent), true, 'the prewarm backend wrote it again')
})

t.test('a role without access to server files is told "not present", so the caller prewarms', async (t) => {
  const role = `relcache_${randomBytes(4).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  await withClient(server, async (c) => { await c.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${quoteLiteral(password)}; GRANT CONNECT ON DATABASE ${quoteIdent(name)} TO ${quoteIdent(role)}`) })
  t.teardown(async () => { await withClient(server, async (c) => { await c.query(`DROP OWNED BY ${quoteIdent(role)}; DROP ROLE IF EXISTS ${quoteIdent(role)}`) }) })
  const as = buildDatabaseUrl({ ...parseDatabaseUrl(url), user: role, password })
  t.equal(await withClient(as, relationCacheInitFilePresent), false)
})
