// PostgreSQL SIGKILLed in the middle of a 5,000-recipient broadcast (worker in the API process, the
// fake Telnyx as carrier): without a restart of the service every recipient ends up sent exactly once,
// or FAILED with SEND_STATE_UNKNOWN when the carrier may have it; nobody is texted twice.
import { startFakeTelnyx } from '../helpers/fake-telnyx.js'
import { createTelnyxSigner } from '../helpers/telnyx-signer.js'
import { checks, sleep, startWorld, until } from './world.js'

const RECIPIENTS = 5000

export async function broadcastKill (): Promise<string[]> {
  const fake = await startFakeTelnyx()
  const world = await startWorld({
    WORKER_ENABLED: 'true',
    TELNYX_API_KEY: 'KEY_chaos_0123456789',
    TELNYX_BASE_URL: fake.baseUrl,
    TELNYX_PUBLIC_KEY: createTelnyxSigner().publicKeyBase64,
    MESSAGE_RATE_PER_SECOND: '0',
    QUIET_HOURS_START: '0',
    QUIET_HOURS_END: '0'
  })
  const { app, pg, sql } = world
  const c = checks()
  try {
    const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: 'bulk@example.org', password: 'correct horse battery staple', firstName: 'A', lastName: 'B', churchName: 'Bulk' } })
    const { tenantId, accessToken } = res.json() as { tenantId: string, accessToken: string }
    const headers = { authorization: `Bearer ${accessToken}` }
    await app.registry.tenant.update({ where: { id: tenantId }, data: { primaryPhoneNumber: '+13125550000' } })
    app.directory.invalidate(tenantId)
    const database = (await app.registry.tenant.findUniqueOrThrow({ where: { id: tenantId } })).databaseName
    await sql(database, `INSERT INTO "Member" (id, "firstName", "lastName", phone, "updatedAt")
      SELECT gen_random_uuid()::text, 'M' || i, '', '+1646' || lpad(i::text, 7, '0'), now() FROM generate_series(1, ${RECIPIENTS}) AS i`)
    const sent = await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'Service moved to 10am' } })
    c.equal(sent.statusCode, 202, 'broadcast accepted')
    const messageId = (sent.json() as { id: string }).id
    c.equal((sent.json() as { recipientCount: number }).recipientCount, RECIPIENTS, 'recipients')
    await until(async () => fake.sent.length > RECIPIENTS / 5, 'the first fifth sent', 120_000)
    await pg.kill()
    let sawOutage = false
    for (let i = 0; i < 10 && !sawOutage; i++) { sawOutage = (await app.inject({ url: '/ready' })).statusCode === 503; await sleep(200) }
    c.ok(sawOutage, '/ready reports 503 while PostgreSQL is down')
    await sleep(2000)
    await pg.restart()
    await until(async () => (await app.inject({ url: '/ready' })).statusCode === 200, '/ready after the restart')
    // What the worker can still finish, it finishes; then time passes for the sweep: recipients left
    // waiting count as lost jobs after 2 minutes and recipients left SENDING as unknown after 10.
    const open = async () => (await sql<{ n: number }>(database, 'SELECT count(*)::int AS n FROM "MessageRecipient" WHERE "messageId" = $1 AND status IN (\'PENDING\', \'SENDING\', \'DEFERRED\')', [messageId]))[0]?.n ?? -1
    for (let round = 0; round < 12 && await open() > 0; round++) {
      const before = await open()
      await sleep(3000)
      if (await open() < before) continue
      await sql(database, 'UPDATE "MessageRecipient" SET "updatedAt" = "updatedAt" - interval \'11 minutes\' WHERE "messageId" = $1 AND status IN (\'PENDING\', \'SENDING\', \'DEFERRED\')', [messageId])
      await app.messagingWorker.sweep().catch(() => {})
    }
    const perPhone = new Map<string, number>()
    for (const s of fake.sent) perPhone.set(String(s.body.to), (perPhone.get(String(s.body.to)) ?? 0) + 1)
    c.equal([...perPhone.values()].filter((n) => n > 1).length, 0, 'phones texted more than once')
    const rows = await sql<{ phone: string, status: string, errorCode: string | null }>(database,
      'SELECT phone, status::text, "errorCode" FROM "MessageRecipient" WHERE "messageId" = $1', [messageId])
    let wrong = 0
    let waiting = 0
    for (const row of rows) {
      const times = perPhone.get(row.phone) ?? 0
      const unknown = row.status === 'FAILED' && row.errorCode === 'SEND_STATE_UNKNOWN'
      // The batch whose job was active when PostgreSQL died stays PENDING until pg-boss expires that
      // job (expireInSeconds, 15 min by default): never sent meanwhile, so never twice.
      if (row.status === 'PENDING' && times === 0) waiting++
      else if (!(unknown || (times === 1 && ['SENT', 'DELIVERED'].includes(row.status)))) wrong++
    }
    c.equal(rows.length, RECIPIENTS, 'recipient rows')
    c.equal(wrong, 0, 'recipients neither sent exactly once nor SEND_STATE_UNKNOWN')
    process.stdout.write(`     sent ${fake.sent.length}, unknown ${rows.filter((r) => r.errorCode === 'SEND_STATE_UNKNOWN').length}, waiting for the expired job ${waiting}\n`)
    return c.failures
  } finally {
    await world.close()
    await fake.close()
  }
}
