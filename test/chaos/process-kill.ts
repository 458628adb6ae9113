// The API process (src/server.ts) and the worker process (src/worker.ts), real child processes on the
// scenario's PostgreSQL with the fake Telnyx of this runner as carrier, SIGKILLed in the middle of a
// 5,000-recipient broadcast, with a second broadcast being posted at that moment, then started again:
// every recipient is sent exactly once (counted at the fake) or FAILED with SEND_STATE_UNKNOWN, none
// is left waiting, nobody is texted twice; the second broadcast either exists and is delivered the same
// way or its request failed and nothing of it was sent.
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import path from 'node:path'
import PgBoss from 'pg-boss'
import { withDatabase } from '../../src/db/pg-admin.js'
import { SEND_QUEUE, SWEEP_QUEUE } from '../../src/messaging/sending/send-queue.js'
import { startFakeTelnyx } from '../helpers/fake-telnyx.js'
import { createTelnyxSigner } from '../helpers/telnyx-signer.js'
import { checks, sleep, startGround, until } from './world.js'

const RECIPIENTS = Number(process.env.CHAOS_RECIPIENTS ?? 5000)
const ROOT = path.resolve(import.meta.dirname, '../..')

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

interface Service { child: ChildProcess, exited: Promise<NodeJS.Signals | number | null> }

function startService (file: string, env: Record<string, string>, logFile: string): Service {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, file)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const log = createWriteStream(logFile, { flags: 'a' })
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => { resolve(signal ?? code) }))
  return { child, exited }
}

export async function processKill (): Promise<string[]> {
  const fake = await startFakeTelnyx()
  const port = await freePort()
  const ground = await startGround({
    TELNYX_API_KEY: 'KEY_chaos_0123456789',
    TELNYX_BASE_URL: fake.baseUrl,
    TELNYX_PUBLIC_KEY: createTelnyxSigner().publicKeyBase64,
    MESSAGE_RATE_PER_SECOND: '0',
    QUIET_HOURS_START: '0',
    QUIET_HOURS_END: '0',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port)
  })
  const { sql } = ground
  const base = `http://127.0.0.1:${port}`
  const logs = path.join(ground.dir, 'services.log')
  const services: Service[] = []
  const start = (): [Service, Service] => {
    const api = startService('src/server.ts', { ...ground.env, WORKER_ENABLED: 'false' }, logs)
    const worker = startService('src/worker.ts', ground.env, logs)
    services.push(api, worker)
    return [api, worker]
  }
  const boss = new PgBoss({ connectionString: withDatabase(ground.pg.url, 'registry'), schema: 'pgboss', supervise: false, schedule: false, migrate: false, max: 2 })
  boss.on('error', () => {})
  const c = checks()
  let finished = false
  try {
    let [api, worker] = start()
    await until(async () => (await fetch(`${base}/ready`)).status === 200, 'the API process ready', 90_000)
    const post = async (url: string, body: unknown, token?: string) => await fetch(`${base}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body)
    })
    const signed = await post('/api/auth/register', { email: 'procs@example.org', password: 'correct horse battery staple', firstName: 'A', lastName: 'B', churchName: 'Procs' })
    if (signed.status !== 201) throw new Error(`sign-up: ${signed.status} ${await signed.text()}`)
    const { tenantId, accessToken } = await signed.json() as { tenantId: string, accessToken: string }
    const number = await post('/api/phone-numbers', { phoneNumber: '+13125550100' }, accessToken)
    if (number.status >= 300) throw new Error(`number: ${await number.text()}`)
    const database = `tenant_${tenantId}`
    await sql(database, `INSERT INTO "Member" (id, "firstName", "lastName", phone, "updatedAt")
      SELECT gen_random_uuid()::text, 'M' || i, '', '+1646' || lpad(i::text, 7, '0'), now() FROM generate_series(1, ${RECIPIENTS}) AS i`)
    await boss.start()

    const first = await post('/api/messages', { text: 'Service moved to 10am' }, accessToken)
    c.equal(first.status, 202, 'first broadcast accepted')
    await until(async () => fake.sent.length > RECIPIENTS / 5, 'a fifth of the first broadcast sent', 120_000)
    // The second broadcast is in flight at the API when both processes die.
    const second = post('/api/messages', { text: 'Potluck after the service' }, accessToken).then((r) => r.status).catch(() => 0)
    await sleep(50 + Math.floor(Math.random() * 1200))
    const killedAt = new Date()
    api.child.kill('SIGKILL')
    worker.child.kill('SIGKILL')
    c.equal(await api.exited, 'SIGKILL', 'the API process was killed')
    c.equal(await worker.exited, 'SIGKILL', 'the worker process was killed')
    const secondStatus = await second
    const sentAtKill = fake.sent.length
    await sleep(1000)
    ;[api, worker] = start()
    await until(async () => (await fetch(`${base}/ready`)).status === 200, 'the API process ready again', 90_000)

    // Time passes: pg-boss expires the jobs the dead worker held (after 15 minutes, as a failure it
    // retries), and the sweep finds recipients waiting with no job (2 min) or stuck mid-send (10 min).
    const stale = await sql<{ id: string }>('registry', 'SELECT id FROM pgboss.job WHERE name = $1 AND state = \'active\' AND started_on < $2', [SEND_QUEUE, killedAt])
    if (stale.length > 0) await boss.fail(SEND_QUEUE, stale.map((j) => j.id))
    const messages = await sql<{ id: string, text: string }>(database, 'SELECT id, body AS text FROM "Message"')
    // Which broadcast a text belongs to (the carrier may get it with a footer added).
    const which = (text: string): string => text.includes('Potluck') ? 'second' : 'first'
    const open = async (): Promise<number> => (await sql<{ n: number }>(database, 'SELECT count(*)::int AS n FROM "MessageRecipient" WHERE status IN (\'PENDING\', \'SENDING\', \'DEFERRED\')'))[0]?.n ?? -1
    for (let round = 0; round < 15 && await open() > 0; round++) {
      const before = await open()
      await sleep(3000)
      if (await open() < before) continue
      await sql(database, 'UPDATE "MessageRecipient" SET "updatedAt" = "updatedAt" - interval \'11 minutes\' WHERE status IN (\'PENDING\', \'SENDING\', \'DEFERRED\')')
      await boss.send(SWEEP_QUEUE, {})
    }

    const sends = new Map<string, number>()
    for (const s of fake.sent) {
      const key = `${String(s.body.to)}|${which(String(s.body.text))}`
      sends.set(key, (sends.get(key) ?? 0) + 1)
    }
    c.equal([...sends.values()].filter((n) => n > 1).length, 0, 'recipients texted the same message more than once')
    const rows = await sql<{ messageId: string, phone: string, status: string, errorCode: string | null }>(database,
      'SELECT "messageId", phone, status::text, "errorCode" FROM "MessageRecipient"')
    const textOf = new Map(messages.map((m) => [m.id, which(m.text)]))
    let wrong = 0
    let waiting = 0
    let unknown = 0
    for (const row of rows) {
      const times = sends.get(`${row.phone}|${textOf.get(row.messageId) ?? '?'}`) ?? 0
      if (['PENDING', 'SENDING', 'DEFERRED'].includes(row.status)) waiting++
      else if (row.status === 'FAILED' && row.errorCode === 'SEND_STATE_UNKNOWN') unknown++
      else if (!(times === 1 && ['SENT', 'DELIVERED'].includes(row.status))) wrong++
    }
    c.equal(messages.length === 1 || messages.length === 2, true, `broadcasts stored (${messages.length})`)
    c.equal(rows.length, RECIPIENTS * messages.length, 'recipient rows: every stored broadcast has all its recipients')
    c.equal(waiting, 0, 'recipients still waiting or mid-send (lost)')
    c.equal(wrong, 0, 'recipients neither sent exactly once nor SEND_STATE_UNKNOWN')
    if (messages.length === 1) {
      c.equal(fake.sent.filter((s) => which(String(s.body.text)) === 'second').length, 0, 'nothing sent of a broadcast that was never stored')
      c.ok(secondStatus !== 202, 'a broadcast answered 202 is stored')
    }
    const view = await fetch(`${base}/api/messages`, { headers: { authorization: `Bearer ${accessToken}` } })
    c.equal(view.status, 200, 'the restarted API serves the tenant')
    process.stdout.write(`     sent ${fake.sent.length} (${sentAtKill} before the kill), unknown ${unknown}, second broadcast ${secondStatus === 0 ? 'cut off' : secondStatus} and ${messages.length === 2 ? 'stored' : 'not stored'}, dead worker's jobs expired ${stale.length}\n`)
    finished = true
    return c.failures
  } finally {
    await boss.stop({ graceful: false, wait: true, timeout: 2000 }).catch(() => {})
    for (const s of services) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL')
    await Promise.all(services.map(async (s) => await s.exited))
    const keep = !finished || c.failures.length > 0
    if (keep) process.stdout.write(`     service logs: ${logs} (kept)\n`)
    await (keep ? ground.pg.stop() : ground.close())
    await fake.close()
  }
}
