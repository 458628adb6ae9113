import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { TEST_SECRETS, testConfig } from '../helper.js'
import { assignNumber, inboundEvent, postWebhook, signup, uniqueNumber } from '../helpers/messaging-fixture.js'
import { startFakeTelnyx } from '../helpers/fake-telnyx.js'
import { createTelnyxSigner } from '../helpers/telnyx-signer.js'
import { until } from '../helpers/wait.js'

const operator = { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` }

/** The value of one series in Prometheus text, e.g. value(text, 'x_total{outcome="stored"}'). */
function value (text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

t.test('GET /metrics is Prometheus text behind the operator token', async (t) => {
  const config = await testConfig()
  const app = await buildApp(config, { logger: false })
  t.teardown(async () => { await app.close() })
  t.equal((await app.inject({ url: '/metrics' })).statusCode, 401)
  t.equal((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789-abcdef' } })).statusCode, 401)
  const res = await app.inject({ url: '/metrics', headers: operator })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain/)
  t.match(res.body, /# TYPE http_request_duration_seconds histogram/)
  t.match(res.body, /process_resident_memory_bytes/)
})

t.test('sign-ups, the pool, webhooks and sends are counted; no secret or message text is logged or exported', async (t) => {
  const fake = await startFakeTelnyx()
  t.teardown(async () => { await fake.close() })
  const signer = createTelnyxSigner()
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
  let failNext = false
  const app = await buildApp(await testConfig({
    LOG_LEVEL: 'debug',
    WORKER_ENABLED: 'true',
    TELNYX_API_KEY: 'KEY_test_0123456789',
    TELNYX_PUBLIC_KEY: signer.publicKeyBase64,
    TELNYX_BASE_URL: fake.baseUrl,
    MESSAGE_RATE_PER_SECOND: '0',
    QUIET_HOURS_START: '0',
    QUIET_HOURS_END: '0'
  }), {
    logger: { stream },
    tenancy: { afterProvisioningStep: (step) => { if (failNext && step === 'DATABASE_CREATED') { failNext = false; throw new Error('injected') } } }
  })
  t.teardown(async () => { await app.close() })

  const org = await signup(app)
  failNext = true
  const failed = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: 'fails@example.org', password: 'a very secret password 42', firstName: 'F', lastName: 'L', churchName: 'Failing' } })
  t.equal(failed.statusCode, 500)

  const number = uniqueNumber()
  await assignNumber(app, org, number)
  await app.registry.tenant.update({ where: { id: org.tenantId }, data: { primaryPhoneNumber: number } })
  app.directory.invalidate(org.tenantId)
  const secretText = 'Prayer request: the Smiths need a ride 8831'
  const event = inboundEvent({ to: number, text: secretText })
  t.equal((await postWebhook(app, signer, event)).json().outcome, 'stored')
  t.equal((await postWebhook(app, signer, event)).json().outcome, 'duplicate')
  t.equal((await postWebhook(app, signer, inboundEvent({ to: '+13125559999' }))).json().outcome, 'unrouted')
  t.equal((await app.inject({ method: 'POST', url: '/webhooks/telnyx', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(event) })).statusCode, 401)

  for (const phone of ['+13125550111', '+13125550112']) {
    t.equal((await app.inject({ method: 'POST', url: '/api/members', headers: org.auth, payload: { firstName: 'M', lastName: 'X', phone } })).statusCode, 201)
  }
  const broadcastText = 'Choir practice moved, code word pelican 5521'
  const sent = await app.inject({ method: 'POST', url: '/api/messages', headers: org.auth, payload: { text: broadcastText } })
  t.equal(sent.statusCode, 202, sent.body)
  await until(async () => (await app.inject({ url: `/api/messages/${sent.json().id as string}`, headers: org.auth })).json().status === 'SENT')

  const metrics = (await app.inject({ url: '/metrics', headers: operator })).body
  t.equal(value(metrics, 'http_request_duration_seconds_count{method="POST",route="/api/auth/register",status_code="201"}'), 1)
  t.ok((value(metrics, 'http_request_duration_seconds_count{method="GET",route="/api/messages/:id",status_code="200"}') ?? 0) >= 1, 'routes by pattern, not by id')
  t.equal(value(metrics, 'provisioning_step_duration_seconds_count{step="ACTIVE"}'), 1)
  t.equal(value(metrics, 'provisioning_duration_seconds_count'), 1)
  t.equal(value(metrics, 'provisioning_failures_total{step="SCHEMA_VERIFIED"}'), 1, 'the failure is counted against the step that failed')
  t.ok((value(metrics, 'tenant_pool_misses_total') ?? 0) >= 1)
  t.ok((value(metrics, 'tenant_pool_hits_total') ?? 0) >= 1)
  t.ok(metrics.includes('tenant_pool_miss_duration_seconds_count{server='))
  t.match(metrics, /tenant_pool_connections\{server="[^"]+"\} \d+/)
  t.match(metrics, /tenant_pool_connection_budget\{server="[^"]+"\} 100/)
  t.equal(value(metrics, 'tenant_pool_waiters'), 0)
  for (const [outcome, n] of [['stored', 1], ['duplicate', 1], ['unrouted', 1], ['refused', 1]] as const) {
    t.equal(value(metrics, `telnyx_webhook_events_total{outcome="${outcome}"}`), n, outcome)
  }
  t.equal(value(metrics, 'message_send_outcomes_total{outcome="sent"}'), 2)
  t.equal(value(metrics, 'queue_depth{queue="message-send"}'), 0)

  const everything = lines.join('') + metrics
  for (const secret of [secretText, broadcastText, 'a very secret password 42', org.accessToken, TEST_SECRETS.JWT_SECRET, TEST_SECRETS.PLATFORM_ADMIN_TOKEN, 'KEY_test_0123456789']) {
    t.notOk(everything.includes(secret), `never logged or exported: ${secret.slice(0, 12)}...`)
  }
  t.notMatch(everything, /postgres(ql)?:\/\/[^"\s]*:[^"\s@]+@/, 'no connection string with a password')
})

t.test('fleet runs report progress through app.metrics.fleet', async (t) => {
  const app = await buildApp(await testConfig(), { logger: false })
  t.teardown(async () => { await app.close() })
  app.metrics.fleet.progress({ runId: 'r1', total: 10, done: 7, migrated: 6, failed: 1, inFlight: 2 })
  app.metrics.fleet.progress({ runId: 'r2', total: 4, done: 1, migrated: 1, failed: 0, inFlight: 3 })
  app.metrics.fleet.finished('SUCCEEDED')
  const metrics = (await app.inject({ url: '/metrics', headers: operator })).body
  t.equal(value(metrics, 'fleet_migration_tenants{run="r2",state="remaining"}'), 3)
  t.equal(value(metrics, 'fleet_migration_tenants{run="r2",state="in_flight"}'), 3)
  t.notOk(metrics.includes('run="r1"'), 'only the latest run keeps series')
  t.equal(value(metrics, 'fleet_migration_runs_total{result="succeeded"}'), 1)
})
