// Key rotation: with the new key current and the old one still accepted (ENCRYPTION_KEYS), `keys
// rotate` re-seals every tenant and server credential while requests keep being served; afterwards a
// process that knows only the new key serves every tenant.
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { testConfig, TEST_SECRETS } from '../helper.js'
import { signup } from '../helpers/messaging-fixture.js'

const NEW_KEY = 'c'.repeat(64)

t.test('credentials are re-encrypted under the new key while requests run', async (t) => {
  const first = await testConfig()
  const old = await buildApp(first, { logger: false })
  const orgs = [await signup(old, 'One'), await signup(old, 'Two'), await signup(old, 'Three')]
  await old.close()

  const rotating = await buildApp(await testConfig({ DATABASE_URL: first.databaseUrl as string, ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEY_ID: 'k2', ENCRYPTION_KEYS: `k1:${TEST_SECRETS.ENCRYPTION_KEY}` }), { logger: false })
  t.teardown(async () => { await rotating.close() })
  t.same(new Set((await rotating.registry.tenant.findMany()).map((r) => r.encryptionKeyId)), new Set(['k1']), 'the tenants were sealed under k1')
  let served = 0
  const failures: number[] = []
  const stop = { now: false }
  // Each request opens a new client, so each one decrypts whatever the registry holds at that moment.
  const load = (async () => {
    while (!stop.now) {
      for (const org of orgs) {
        await rotating.pool.evict(org.tenantId)
        const res = await rotating.inject({ method: 'GET', url: '/api/members', headers: org.auth })
        if (res.statusCode === 200) served++
        else failures.push(res.statusCode)
      }
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 200))
  const report = await rotating.keys.rotate('test')
  await new Promise((resolve) => setTimeout(resolve, 200))
  stop.now = true
  await load
  t.match(report, { keyId: 'k2', tenants: 3, failed: [] })
  t.ok(report.servers >= 0)
  t.same(failures, [], `no request failed (${served} served during the rotation)`)
  t.equal(await rotating.keys.pending(), 0, 'nothing is left under the old key')
  t.same(new Set((await rotating.registry.databaseServer.findMany()).map((s) => s.encryptionKeyId)), new Set(['k2']))
  const audit = await rotating.registry.auditLog.findFirstOrThrow({ where: { action: 'keys.rotated' } })
  t.match(audit, { actor: 'test', before: { keyIds: ['k1'] }, after: { keyId: 'k2' } })
  t.notOk(JSON.stringify(audit).includes(NEW_KEY), 'no key in the audit trail')

  const fresh = await buildApp(await testConfig({ DATABASE_URL: first.databaseUrl as string, ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEY_ID: 'k2' }), { logger: false })
  t.teardown(async () => { await fresh.close() })
  for (const org of orgs) t.equal((await fresh.inject({ method: 'GET', url: '/api/members', headers: org.auth })).statusCode, 200, 'the new key alone opens every tenant')
})

t.test('a malformed ENCRYPTION_KEYS is refused at start-up', async (t) => {
  await t.rejects(testConfig({ ENCRYPTION_KEYS: 'nonsense' }), /ENCRYPTION_KEYS must be a comma-separated list/)
  await t.rejects(testConfig({ ENCRYPTION_KEYS: 'k1:' + 'e'.repeat(64) }), /must not list the current key id k1/)
  await t.rejects(testConfig({ ENCRYPTION_KEYS: 'k0:abc' }), /must be 32 bytes/)
})
