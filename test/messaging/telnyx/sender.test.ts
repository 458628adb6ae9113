import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import t from 'tap'
import { SendError, createTelnyxSender } from '../../../src/messaging/telnyx/sender.js'
import { startFakeTelnyx } from '../../helpers/fake-telnyx.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function captureLog () {
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line)) } })
  return { log, lines }
}

async function sendError (promise: Promise<unknown>): Promise<SendError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  if (!(err instanceof SendError)) throw new Error(`expected SendError, got ${String(err)}`)
  return err
}

// A port nothing listens on: bind one, then free it.
async function closedPortUrl (): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}/v2`
}

t.test('telnyx mode with the real SDK', async (t) => {
  const fake = await startFakeTelnyx()
  t.teardown(() => fake.close())
  t.afterEach(() => fake.reset())
  const { log, lines } = captureLog()
  const sender = createTelnyxSender({
    apiKey: 'KEY_test_123',
    baseUrl: fake.baseUrl,
    messagingProfileId: 'profile-1',
    webhookUrl: 'https://app.example.org/webhooks/telnyx',
    log,
  })
  t.equal(sender.mode, 'telnyx')

  t.test('sends the fields Telnyx needs with the bearer key', async (t) => {
    const { providerMessageId } = await sender.send({
      from: '+18445550002',
      to: '+13125550001',
      text: 'Service at 10am',
      mediaUrls: ['https://app.example.org/flyer.jpg'],
    })
    t.equal(fake.sent.length, 1)
    const [req] = fake.sent
    t.equal(providerMessageId, req?.id)
    t.match(providerMessageId, UUID)
    t.equal(req?.authorization, 'Bearer KEY_test_123')
    t.same(req?.body, {
      from: '+18445550002',
      to: '+13125550001',
      text: 'Service at 10am',
      media_urls: ['https://app.example.org/flyer.jpg'],
      messaging_profile_id: 'profile-1',
      webhook_url: 'https://app.example.org/webhooks/telnyx',
    })
    t.same(sender.localOutbox(), [], 'nothing recorded locally in telnyx mode')
  })

  t.test('optional fields are left out when not configured', async (t) => {
    const plain = createTelnyxSender({ apiKey: 'KEY_test_123', baseUrl: fake.baseUrl, log })
    await plain.send({ from: '+18445550002', to: '+13125550001', text: 'Hi' })
    t.same(fake.sent[0]?.body, { from: '+18445550002', to: '+13125550001', text: 'Hi' })
  })

  const cases = [
    { status: 500, kind: 'transient', providerCode: '10007' },
    { status: 503, kind: 'transient', providerCode: '10007' },
    { status: 429, kind: 'transient', providerCode: '10011' },
    { status: 400, kind: 'permanent', providerCode: '10015' },
    { status: 401, kind: 'permanent', providerCode: '10009' },
    { status: 404, kind: 'permanent', providerCode: '10015' },
  ] as const
  for (const c of cases) {
    t.test(`${c.status} is ${c.kind} and is not retried by the SDK`, async (t) => {
      fake.failNext(c.status)
      const err = await sendError(sender.send({ from: '+18445550002', to: '+13125550001', text: 'Hi' }))
      t.match(err, { kind: c.kind, status: c.status, providerCode: c.providerCode, code: 'SMS_SEND_FAILED' })
      t.equal(fake.requestCount, 1, 'exactly one attempt')
      t.equal(fake.sent.length, 0)
    })
  }

  t.test('Telnyx validation errors are permanent and carry the Telnyx code', async (t) => {
    const err = await sendError(sender.send({ from: '+18445550002', to: '', text: 'Hi' }))
    t.match(err, { kind: 'permanent', status: 422, providerCode: '40310' })
    const warn = lines.find((l) => l.msg === 'telnyx send failed' && l.status === 422)
    t.ok(warn, 'the failure is logged')
    t.notOk(JSON.stringify(warn).includes('KEY_test_123'), 'the key is not logged')
  })

  t.test('a custom error body is passed through', async (t) => {
    fake.failNext(400, 1, { errors: [{ code: 40300, title: 'Blocked due to STOP message' }] })
    const err = await sendError(sender.send({ from: '+18445550002', to: '+13125550001', text: 'Hi' }))
    t.match(err, { kind: 'permanent', status: 400, providerCode: '40300' })
    t.match(err.message, /Blocked due to STOP message/)
  })

  t.test('a scripted failure is consumed, then sends succeed again', async (t) => {
    fake.failNext(500, 2)
    await sendError(sender.send({ from: '+18445550002', to: '+13125550001', text: 'a' }))
    await sendError(sender.send({ from: '+18445550002', to: '+13125550001', text: 'b' }))
    const ok = await sender.send({ from: '+18445550002', to: '+13125550001', text: 'c' })
    t.equal(ok.providerMessageId, fake.sent[0]?.id)
    t.equal(fake.requestCount, 3)
  })

  t.test('a slow answer times out as transient', async (t) => {
    const impatient = createTelnyxSender({ apiKey: 'KEY_test_123', baseUrl: fake.baseUrl, timeoutMs: 100, log })
    fake.setLatency(1000)
    const err = await sendError(impatient.send({ from: '+18445550002', to: '+13125550001', text: 'Hi' }))
    t.match(err, { kind: 'transient', message: /timed out/i })
    t.equal(err.status, undefined)
    t.equal(fake.requestCount, 1)
  })
})

t.test('a refused connection is transient', async (t) => {
  const sender = createTelnyxSender({ apiKey: 'KEY_test_123', baseUrl: await closedPortUrl(), log: captureLog().log })
  const err = await sendError(sender.send({ from: '+18445550002', to: '+13125550001', text: 'Hi' }))
  t.equal(err.kind, 'transient')
  t.equal(err.status, undefined)
  t.match(err.message, /Connection error/)
})

t.test('the fake rejects requests without a bearer key', async (t) => {
  const fake = await startFakeTelnyx()
  t.teardown(() => fake.close())
  const res = await fetch(`${fake.baseUrl}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+18445550002', to: '+13125550001', text: 'Hi' }),
  })
  t.equal(res.status, 401)
  t.match(await res.json(), { errors: [{ code: '10009' }] })
  t.equal(fake.sent.length, 0)
})

t.test('local mode records sends instead of calling Telnyx', async (t) => {
  const { log, lines } = captureLog()
  const sender = createTelnyxSender({ log })
  t.equal(sender.mode, 'local')

  const { providerMessageId } = await sender.send({
    from: '+18445550002',
    to: '+13125550001',
    text: 'Welcome!',
    mediaUrls: ['https://app.example.org/a.jpg'],
  })
  t.match(providerMessageId, /^local-[0-9a-f-]{36}$/)
  t.match(sender.localOutbox(), [
    {
      providerMessageId,
      from: '+18445550002',
      to: '+13125550001',
      text: 'Welcome!',
      mediaUrls: ['https://app.example.org/a.jpg'],
      sentAt: Date,
    },
  ])
  t.ok(lines.some((l) => l.providerMessageId === providerMessageId), 'logged')

  // Bounded: only the most recent 1000 are kept.
  for (let i = 0; i < 1004; i++) await sender.send({ from: '+18445550002', to: '+13125550001', text: `#${i}` })
  const outbox = sender.localOutbox()
  t.equal(outbox.length, 1000)
  t.equal(outbox[0]?.text, '#4')
  t.equal(outbox.at(-1)?.text, '#1003')
  t.equal(new Set(outbox.map((s) => s.providerMessageId)).size, 1000, 'ids are unique')
})
