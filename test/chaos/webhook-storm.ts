// Inbound webhooks for CHAOS_SECONDS (default 60, as the issue asks; shorter for a local run) from a
// load generator in another process, with Telnyx's retry behaviour, to three tenants, while PostgreSQL
// is SIGKILLed and restarted in the middle (/ready says so meanwhile): counted from the tenants'
// databases, 0 lost, 0 duplicated, 0 in the wrong tenant.
import { spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { checks, sleep, startWorld } from './world.js'

export async function webhookStorm (): Promise<string[]> {
  const seconds = Number(process.env.CHAOS_SECONDS ?? 60)
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url').toString('base64')
  const world = await startWorld({ TELNYX_PUBLIC_KEY: raw })
  const { app, pg, sql } = world
  const c = checks()
  try {
    const tenants: Array<{ tenantId: string, number: string, database: string }> = []
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: `storm${i}@example.org`, password: 'correct horse battery staple', firstName: 'A', lastName: 'B', churchName: `Storm ${i}` } })
      const { tenantId, accessToken } = res.json() as { tenantId: string, accessToken: string }
      const number = `+1312555${String(7000 + i)}`
      const assigned = await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: { authorization: `Bearer ${accessToken}` }, payload: { phoneNumber: number } })
      if (assigned.statusCode >= 300) throw new Error(`number: ${assigned.body}`)
      const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: tenantId } })
      tenants.push({ tenantId, number, database: tenant.databaseName })
    }
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/chaos/webhook-load.ts'], {
      env: {
        ...process.env,
        WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks/telnyx`,
        WEBHOOK_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        WEBHOOK_NUMBERS: JSON.stringify(tenants.map((t) => t.number)),
        CHAOS_SECONDS: String(seconds)
      },
      stdio: ['ignore', 'pipe', 'inherit']
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    const exited = new Promise<number>((resolve) => child.on('close', (code) => { resolve(code ?? 1) }))
    await sleep(seconds * 400)
    await pg.kill()
    const outageEnds = Date.now() + 3000
    let sawOutage = false
    while (Date.now() < outageEnds) {
      if (!sawOutage) sawOutage = (await app.inject({ url: '/ready' })).statusCode === 503
      await sleep(200)
    }
    c.ok(sawOutage, '/ready reports 503 while PostgreSQL is down')
    await pg.restart()
    c.equal(await exited, 0, 'the load generator finished')
    const report = JSON.parse(out) as { events: Array<{ messageId: string, to: string }>, stats: Record<string, number> }
    c.ok((report.stats.fiveXx ?? 0) + (report.stats.networkErrors ?? 0) > 0, 'some deliveries failed while PostgreSQL was down and were delivered again')
    c.ok((report.stats.duplicatesSent ?? 0) > 0, 'events were delivered more than once')
    c.equal(report.stats.fourXx, 0, 'no delivery refused with a 4xx')
    c.ok((report.stats.stormMs ?? 0) >= seconds * 1000 * 0.95, `new events kept coming for ${seconds} s (${((report.stats.stormMs ?? 0) / 1000).toFixed(1)} s)`)

    const expected = new Map(report.events.map((e) => [e.messageId, e.to]))
    const seen = new Map<string, number>()
    let wrongTenant = 0
    for (const tenant of tenants) {
      const rows = await sql<{ id: string, n: number }>(tenant.database, 'SELECT "providerMessageId" AS id, count(*)::int AS n FROM "ConversationMessage" WHERE direction = \'INBOUND\' GROUP BY 1')
      for (const row of rows) {
        seen.set(row.id, (seen.get(row.id) ?? 0) + row.n)
        if (expected.get(row.id) !== tenant.number) wrongTenant++
      }
    }
    const lost = [...expected.keys()].filter((id) => !seen.has(id)).length
    const duplicated = [...seen.values()].filter((n) => n > 1).length
    c.ok(report.events.length > 100, `a real storm (${report.events.length} events, ${report.stats.deliveries} deliveries)`)
    c.equal(lost, 0, 'events lost')
    c.equal(duplicated, 0, 'events stored twice')
    c.equal(wrongTenant, 0, 'events in the wrong tenant')
    process.stdout.write(`     ${report.events.length} events, ${JSON.stringify(report.stats)}\n`)
    return c.failures
  } finally {
    await world.close()
  }
}
