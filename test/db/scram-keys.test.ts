// The SCRAM key cache (src/db/scram-keys.ts): in place in pg's login code, reused across logins with
// the same credential, and no way around a wrong password or another role's salt.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { buildDatabaseUrl, connect, parseDatabaseUrl, quoteIdent, quoteLiteral, withClient } from '../../src/db/pg-admin.js'
import { installScramKeyCache, scramKeyStats } from '../../src/db/scram-keys.js'
import { testServerUrl } from '../helper.js'

const url = await testServerUrl()
const role = `scram_test_${randomBytes(4).toString('hex')}`
const password = randomBytes(18).toString('base64url')
const as = (user: string, pass: string): string => buildDatabaseUrl({ ...parseDatabaseUrl(url), user, password: pass })

t.before(async () => {
  await withClient(url, async (c) => {
    await c.query(`SET scram_iterations = 4096; CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${quoteLiteral(password)}`)
  })
})
t.teardown(async () => { await withClient(url, async (c) => { await c.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`) }) })

t.test('pg logs in through the cache: one derivation for many logins of a role', async (t) => {
  t.equal(installScramKeyCache(), true, "pg's SCRAM functions were found (a pg upgrade that moves them fails here)")
  const before = scramKeyStats()
  for (let i = 0; i < 5; i++) {
    const client = await connect(as(role, password))
    t.equal((await client.query<{ me: string }>('SELECT current_user AS me')).rows[0]?.me, role)
    await client.end()
  }
  const after = scramKeyStats()
  t.equal(after.derived - before.derived, 1, 'derived once')
  t.equal(after.reused - before.reused, 4, 'reused by the next four logins')
})

t.test('a wrong password is still refused, and does not disturb the right one', async (t) => {
  await t.rejects(connect(as(role, `${password}x`)), /password authentication failed/)
  const client = await connect(as(role, password))
  await client.end()
})

t.test('a role with the same password but its own salt gets its own key', async (t) => {
  const twin = `${role}_twin`
  await withClient(url, async (c) => { await c.query(`SET scram_iterations = 4096; CREATE ROLE ${quoteIdent(twin)} LOGIN PASSWORD ${quoteLiteral(password)}`) })
  t.teardown(async () => { await withClient(url, async (c) => { await c.query(`DROP ROLE IF EXISTS ${quoteIdent(twin)}`) }) })
  const before = scramKeyStats()
  const client = await connect(as(twin, password))
  await client.end()
  t.equal(scramKeyStats().derived - before.derived, 1)
})
