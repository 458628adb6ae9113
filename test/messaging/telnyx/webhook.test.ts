import t from 'tap'
import { createTelnyxWebhookVerifier, parseTelnyxEvent } from '../../../src/messaging/telnyx/webhook.js'
import { createTelnyxSigner } from '../../helpers/telnyx-signer.js'

// Shaped after real Telnyx deliveries (fields we ignore trimmed).
function inboundBody (overrides: Record<string, unknown> = {}) {
  return {
    data: {
      event_type: 'message.received',
      id: 'b301ed3f-1490-491f-995f-6e64e69674d4',
      occurred_at: '2024-05-05T18:09:02.303+00:00',
      record_type: 'event',
      payload: {
        id: '84cca175-9755-4859-b67f-4730d7f58aa3',
        direction: 'inbound',
        type: 'SMS',
        from: { phone_number: '+13125550001', carrier: 'T-Mobile USA', line_type: 'long_code' },
        to: [{ phone_number: '+18445550002', status: 'webhook_delivered', carrier: 'Telnyx', line_type: 'Wireless' }],
        text: ' Stop ',
        media: [],
        errors: [],
        autoresponse_type: null,
        messaging_profile_id: '740572b6-099c-44a1-89b9-6c92163bc68d',
        received_at: '2024-05-05T18:09:02.150+00:00',
        ...overrides,
      },
    },
    meta: { attempt: 1, delivered_to: 'https://example.org/webhooks/telnyx' },
  }
}

function finalizedBody () {
  return {
    data: {
      event_type: 'message.finalized',
      id: '4ee8c3a6-4995-4309-a3c6-38e3db9ea4be',
      occurred_at: '2024-05-05T18:10:00.000+00:00',
      record_type: 'event',
      payload: {
        id: '40385f64-5717-4562-b3fc-2c963f66afa6',
        direction: 'outbound',
        from: { phone_number: '+18445550002' },
        to: [{ phone_number: '+13125550001', status: 'delivery_failed' }],
        text: 'Service at 10am',
        media: [{ url: 'https://example.org/a.jpg', content_type: null }],
        errors: [{ code: '40008', title: 'Undeliverable', detail: 'The destination is unreachable.' }],
        sent_at: '2024-05-05T18:09:59.000+00:00',
        completed_at: '2024-05-05T18:10:00.000+00:00',
      },
    },
    meta: { attempt: 2 },
  }
}

const signer = createTelnyxSigner()
const verifier = createTelnyxWebhookVerifier({ publicKey: signer.publicKeyBase64 })
const now = () => Math.floor(Date.now() / 1000)

type Asserts = Pick<typeof t, 'ok' | 'match'>

async function rejects (t: Asserts, promise: Promise<unknown>, message: RegExp, name: string) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  // The client sees one answer; the SDK's reason stays in the cause, for the log.
  t.match(err, { code: 'INVALID_WEBHOOK_SIGNATURE', statusCode: 401 }, name)
  t.match((err as Error).cause, { message }, name)
}

function invalid (t: Asserts, body: unknown, reason: string) {
  let err: unknown
  try {
    parseTelnyxEvent(body)
  } catch (e) {
    err = e
  }
  t.match(err, { code: 'INVALID_WEBHOOK_PAYLOAD', statusCode: 400, message: `Webhook payload is invalid: ${reason}` }, reason)
}

t.test('a correctly signed body is accepted and returned parsed', async (t) => {
  const raw = JSON.stringify(inboundBody())
  const event = await verifier.verify(raw, { ...signer.sign(raw), 'content-type': 'application/json' })
  t.same(event, JSON.parse(raw))

  // Header names are matched case-insensitively, as Telnyx sends them capitalized.
  const h = signer.sign(raw)
  const capitalized = { 'Telnyx-Signature-Ed25519': h['telnyx-signature-ed25519'], 'Telnyx-Timestamp': h['telnyx-timestamp'] }
  t.equal(((await verifier.verify(raw, capitalized)) as { data: { id: string } }).data.id, 'b301ed3f-1490-491f-995f-6e64e69674d4')

  // Inside the 300 s window, in either direction.
  t.ok(await verifier.verify(raw, signer.sign(raw, now() - 290)))
  t.ok(await verifier.verify(raw, signer.sign(raw, now() + 290)))
})

t.test('bad signatures are rejected', async (t) => {
  const raw = JSON.stringify(inboundBody())
  const headers = signer.sign(raw)

  await rejects(t, verifier.verify(raw, {}), /Missing required header/, 'no headers')
  await rejects(
    t,
    verifier.verify(raw, { 'telnyx-timestamp': headers['telnyx-timestamp'] }),
    /Telnyx-Signature-Ed25519/,
    'missing signature header'
  )
  await rejects(
    t,
    verifier.verify(raw, { 'telnyx-signature-ed25519': headers['telnyx-signature-ed25519'] }),
    /Telnyx-Timestamp/,
    'missing timestamp header'
  )

  const other = createTelnyxSigner()
  await rejects(t, verifier.verify(raw, other.sign(raw)), /does not match/, 'signed with another key')

  const tampered = raw.replace(' Stop ', 'Hello')
  t.not(tampered, raw)
  await rejects(t, verifier.verify(tampered, headers), /does not match/, 'tampered body')

  // Replaying the same signature under a fresh timestamp must fail too: the timestamp is signed.
  await rejects(
    t,
    verifier.verify(raw, { ...headers, 'telnyx-timestamp': String(Number(headers['telnyx-timestamp']) + 1) }),
    /does not match/,
    'timestamp swapped'
  )

  await rejects(t, verifier.verify(raw, signer.sign(raw, now() - 301)), /too old/, 'stale timestamp')
  await rejects(t, verifier.verify(raw, signer.sign(raw, now() + 301)), /too new/, 'future timestamp')
  await rejects(
    t,
    verifier.verify(raw, { ...headers, 'telnyx-signature-ed25519': 'not base64!' }),
    /Invalid signature format/,
    'garbage signature'
  )
})

t.test('a signed body that is not a JSON event is rejected', async (t) => {
  const notJson = 'data=1'
  const err = await verifier.verify(notJson, signer.sign(notJson)).catch((e: unknown) => e)
  t.match(err, { code: 'INVALID_WEBHOOK_PAYLOAD', statusCode: 400, message: /not valid JSON/ }, 'non-JSON')
  const notEvent = '{"hello":"world"}'
  invalid(t, await verifier.verify(notEvent, signer.sign(notEvent)), 'data must be an object')
})

t.test('a malformed public key fails at construction', async (t) => {
  t.throws(() => createTelnyxWebhookVerifier({ publicKey: 'abc' }), /TELNYX_PUBLIC_KEY/)
  t.throws(
    () => createTelnyxWebhookVerifier({ publicKey: Buffer.alloc(16).toString('base64') }),
    /TELNYX_PUBLIC_KEY/
  )
})

t.test('parseTelnyxEvent accepts the message events and normalizes them', async (t) => {
  const received = parseTelnyxEvent(inboundBody())
  t.equal(received.kind, 'message')
  if (received.kind !== 'message') return
  const { data } = received.event
  t.equal(data.event_type, 'message.received')
  t.equal(data.payload.to[0]?.phone_number, '+18445550002')
  t.equal(data.payload.from.phone_number, '+13125550001')
  t.equal(data.payload.text, ' Stop ')
  t.equal(data.payload.autoresponse_type, null)
  t.same(received.event.meta, { attempt: 1, delivered_to: 'https://example.org/webhooks/telnyx' })

  const finalized = parseTelnyxEvent(finalizedBody())
  t.equal(finalized.kind, 'message')
  if (finalized.kind !== 'message') return
  t.equal(finalized.event.data.event_type, 'message.finalized')
  t.same(finalized.event.data.payload.to, [{ phone_number: '+13125550001', status: 'delivery_failed' }])
  t.same(finalized.event.data.payload.errors, [
    { code: '40008', title: 'Undeliverable', detail: 'The destination is unreachable.' },
  ])
  t.same(finalized.event.data.payload.media, [{ url: 'https://example.org/a.jpg', content_type: null }])

  // Picture-only MMS: no text and no errors array still parse, as '' and [].
  const mms = inboundBody({ text: null, errors: undefined, media: [{ url: 'https://m/1.jpg', content_type: 'image/jpeg' }] })
  const parsedMms = parseTelnyxEvent(mms)
  t.equal(parsedMms.kind, 'message')
  if (parsedMms.kind === 'message') {
    t.equal(parsedMms.event.data.payload.text, '')
    t.same(parsedMms.event.data.payload.errors, [])
  }
})

t.test('parseTelnyxEvent rejects shapes the app cannot route', async (t) => {
  invalid(t, inboundBody({ to: '+18445550002' }), 'data.payload.to must be an array')
  invalid(t, inboundBody({ to: [] }), 'data.payload.to must not be empty')
  invalid(t, inboundBody({ to: [{ status: 'queued' }] }), 'data.payload.to[0].phone_number must be a non-empty string')
  invalid(t, inboundBody({ from: {} }), 'data.payload.from.phone_number must be a non-empty string')
  invalid(t, inboundBody({ id: undefined }), 'data.payload.id must be a non-empty string')

  const noId = inboundBody() as { data: Record<string, unknown> }
  delete noId.data.id
  invalid(t, noId, 'data.id must be a non-empty string')

  const noOccurredAt = inboundBody() as { data: Record<string, unknown> }
  delete noOccurredAt.data.occurred_at
  invalid(t, noOccurredAt, 'data.occurred_at must be a non-empty string')

  const noPayload = inboundBody() as { data: Record<string, unknown> }
  delete noPayload.data.payload
  invalid(t, noPayload, 'data.payload must be an object')

  // A status report without a status is useless to us.
  const noStatus = finalizedBody()
  noStatus.data.payload.to = [{ phone_number: '+13125550001' } as { phone_number: string, status: string }]
  invalid(t, noStatus, 'data.payload.to[0].status must be a non-empty string')

  const other = inboundBody() as { data: Record<string, unknown> }
  other.data.event_type = 'call.initiated'
  t.same(parseTelnyxEvent(other), { kind: 'unsupported', eventId: 'b301ed3f-1490-491f-995f-6e64e69674d4', eventType: 'call.initiated' })

  invalid(t, null, 'body must be an object')
  invalid(t, [], 'body must be an object')
  invalid(t, { data: 'x' }, 'data must be an object')
})
