import t from 'tap'
import { request } from 'node:http'
import { build } from '../helper.js'
import { until } from '../helpers/wait.js'
import { shouldShed } from '../../src/plugins/external/protection.js'

t.test('responses carry security headers', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/health' })
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
  t.match(String(res.headers['strict-transport-security']), /max-age=\d+/)
  t.ok(res.headers['content-security-policy'])
  t.equal(res.headers['x-powered-by'], undefined)
  t.equal((await app.inject({ method: 'GET', url: '/docs/json' })).statusCode, 200)
})

t.test('headers past MAX_HEADER_BYTES get 431 from a listening server', async (t) => {
  const app = await build(t, { MAX_HEADER_BYTES: '2048' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/health', headers: { 'x-filler': 'y'.repeat(4096) } }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', reject)
    req.end()
  })
  t.equal(status, 431)
})

t.test('under memory pressure requests get 503 OVERLOADED with Retry-After; webhooks and health checks still pass', async (t) => {
  // A 1 MB heap limit is always exceeded; webhooks tolerate a factor far past it.
  const app = await build(t, { PRESSURE_MAX_HEAP_MB: '1', PRESSURE_WEBHOOK_FACTOR: '1000000' })
  const login = async () => await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'a@example.org', password: 'whatever it is' } })
  await until(async () => (await login()).statusCode === 503, { what: 'the first memory sample' })
  const shed = await login()
  t.equal(shed.json().code, 'OVERLOADED')
  t.equal(shed.headers['retry-after'], '5')
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  const webhook = await app.inject({ method: 'POST', url: '/webhooks/telnyx', headers: { 'content-type': 'application/json' }, payload: '{}' })
  t.equal(webhook.statusCode, 401, 'the webhook reached its signature check')
})

t.test('webhooks are shed only past the factor', async (t) => {
  const limits = { ratePerMinute: 1, maxEventLoopDelayMs: 100, maxHeapBytes: 1000, maxRssBytes: 0, webhookPressureFactor: 2, maxHeaderBytes: 1, requestTimeoutMs: 1 }
  t.ok(shouldShed('/api/me', 'eventLoopDelay', 150, limits))
  t.notOk(shouldShed('/webhooks/telnyx', 'eventLoopDelay', 150, limits))
  t.ok(shouldShed('/webhooks/telnyx', 'eventLoopDelay', 250, limits))
  t.notOk(shouldShed('/webhooks/stripe', 'heapUsedBytes', 1500, limits))
  t.ok(shouldShed('/webhooks/stripe', 'heapUsedBytes', 2500, limits))
  t.notOk(shouldShed('/ready', 'heapUsedBytes', 1e12, limits))
})

t.test('router refusals use the error shape and do not echo the URL', async (t) => {
  const app = await build(t)
  const long = await app.inject({ url: `/api/members/${'x'.repeat(300)}` })
  t.equal(long.statusCode, 414)
  t.match(long.json(), { statusCode: 414, code: 'PATH_PARAMETER_TOO_LONG', requestId: String })
  t.notMatch(long.body, /xxxx/)
  const bad = await app.inject({ url: '/api/members/%E0%A4%A' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'BAD_URL' })
})
