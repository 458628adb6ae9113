// Logs carry the request id and never the secrets that pass through a request.
import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../helper.js'

t.test('request logs have the request id and redact credentials', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done() } })
  const app = await buildApp(await testConfig({ LOG_LEVEL: 'info' }), { logger: { stream } })
  t.teardown(async () => { await app.close() })
  const password = 'super secret password 123'
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    headers: { authorization: 'Bearer secret-bearer-token-value', 'x-request-id': 'req-logging-0001' },
    payload: { email: 'nobody@example.org', password }
  })
  t.equal(res.statusCode, 401)
  const all = lines.join('\n')
  t.notMatch(all, /secret-bearer-token-value/, 'authorization header not logged')
  t.notMatch(all, new RegExp(password), 'password not logged')
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  const mine = entries.filter((e) => e.reqId === 'req-logging-0001')
  t.ok(mine.length >= 2, 'incoming and completed lines carry the request id')
  t.ok(mine.some((e) => e.msg === 'request completed'))
})
