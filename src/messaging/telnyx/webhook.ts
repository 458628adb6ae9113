// Verifies Telnyx webhooks (ed25519 over `timestamp|rawBody`, 300 s tolerance: signature.ts) and describes
// the messaging events we act on. The SDK's own event types are all-optional; the app needs guarantees
// (an id to dedupe on, to[] to route by), so parseTelnyxEvent checks them once instead of at every use.
// Both throw the project's coded errors: INVALID_WEBHOOK_SIGNATURE (401), INVALID_WEBHOOK_PAYLOAD (400).
import type { KeyObject } from 'node:crypto'
import { TelnyxWebhook } from 'telnyx/lib/webhooks'
import { checkTelnyxSignature, importTelnyxKey } from './signature.js'
import { ERRORS } from '../../errors.js'

export interface TelnyxEventMeta {
  attempt?: number
  delivered_to?: string
}

export interface TelnyxEnvelope<Type extends string = string, Payload = unknown> {
  data: {
    id: string
    event_type: Type
    occurred_at: string
    record_type?: string
    payload: Payload
  }
  meta?: TelnyxEventMeta
}

/** What a verified webhook body is before its payload is checked. */
export type TelnyxEvent = TelnyxEnvelope

export interface TelnyxMessageRecipient {
  phone_number: string
  /** queued, sending, sent, delivered, sending_failed, delivery_failed, delivery_unconfirmed, webhook_delivered... */
  status?: string
  carrier?: string
  line_type?: string
}

export interface TelnyxMessageMedia {
  url: string
  content_type: string | null
}

export interface TelnyxMessageError {
  code: string
  title: string
  detail?: string
}

export interface TelnyxMessagePayload {
  id: string
  direction?: string
  type?: string
  from: { phone_number: string, carrier?: string, line_type?: string }
  to: TelnyxMessageRecipient[]
  /** Empty for a picture-only MMS. */
  text: string
  media: TelnyxMessageMedia[]
  errors: TelnyxMessageError[]
  /** Set when Telnyx itself already answered a STOP/HELP keyword on this number. */
  autoresponse_type?: string | null
  messaging_profile_id?: string
  received_at?: string
  sent_at?: string | null
  completed_at?: string | null
}

export type MessageReceivedEvent = TelnyxEnvelope<'message.received', TelnyxMessagePayload>
export type MessageSentEvent = TelnyxEnvelope<'message.sent', TelnyxMessagePayload>
export type MessageFinalizedEvent = TelnyxEnvelope<'message.finalized', TelnyxMessagePayload>
export type TelnyxMessageEvent = MessageReceivedEvent | MessageSentEvent | MessageFinalizedEvent
export type TelnyxMessageEventType = TelnyxMessageEvent['data']['event_type']

/** A verified webhook: a message event we act on, or another event type, acknowledged and ignored. */
export type ParsedWebhook =
  | { kind: 'message', event: TelnyxMessageEvent }
  | { kind: 'unsupported', eventId: string, eventType: string }

const MESSAGE_EVENT_TYPES: ReadonlySet<string> = new Set<TelnyxMessageEventType>([
  'message.received',
  'message.sent',
  'message.finalized',
])

class Invalid extends Error {}

type Obj = Record<string, unknown>

function obj (value: unknown, path: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Invalid(`${path} must be an object`)
  }
  return value as Obj
}

function str (value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw new Invalid(`${path} must be a non-empty string`)
  return value
}

function optStr (value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new Invalid(`${path} must be a string`)
  return value
}

function arr (value: unknown, path: string, required: boolean): unknown[] {
  if ((value === undefined || value === null) && !required) return []
  if (!Array.isArray(value)) throw new Invalid(`${path} must be an array`)
  return value
}

function recipient (value: unknown, path: string, needsStatus: boolean): TelnyxMessageRecipient {
  const o = obj(value, path)
  const status = needsStatus ? str(o.status, `${path}.status`) : optStr(o.status, `${path}.status`)
  return {
    phone_number: str(o.phone_number, `${path}.phone_number`),
    ...(status !== undefined && { status }),
    ...(typeof o.carrier === 'string' && { carrier: o.carrier }),
    ...(typeof o.line_type === 'string' && { line_type: o.line_type }),
  }
}

function payload (value: unknown, eventType: string): TelnyxMessagePayload {
  const p = obj(value, 'data.payload')
  const from = obj(p.from, 'data.payload.from')
  // Status is what sent/finalized events exist to report; inbound events may omit it.
  const needsStatus = eventType !== 'message.received'
  const to = arr(p.to, 'data.payload.to', true).map((r, i) => recipient(r, `data.payload.to[${i}]`, needsStatus))
  if (to.length === 0) throw new Invalid('data.payload.to must not be empty')

  const media = arr(p.media, 'data.payload.media', false).map((m, i) => {
    const o = obj(m, `data.payload.media[${i}]`)
    return {
      url: str(o.url, `data.payload.media[${i}].url`),
      content_type: optStr(o.content_type, `data.payload.media[${i}].content_type`) ?? null,
    }
  })
  const errors = arr(p.errors, 'data.payload.errors', false).map((e, i) => {
    const o = obj(e, `data.payload.errors[${i}]`)
    const detail = optStr(o.detail, `data.payload.errors[${i}].detail`)
    return {
      code: String(o.code ?? ''),
      title: optStr(o.title, `data.payload.errors[${i}].title`) ?? '',
      ...(detail !== undefined && { detail }),
    }
  })

  return {
    id: str(p.id, 'data.payload.id'),
    ...(typeof p.direction === 'string' && { direction: p.direction }),
    ...(typeof p.type === 'string' && { type: p.type }),
    from: {
      phone_number: str(from.phone_number, 'data.payload.from.phone_number'),
      ...(typeof from.carrier === 'string' && { carrier: from.carrier }),
      ...(typeof from.line_type === 'string' && { line_type: from.line_type }),
    },
    to,
    text: optStr(p.text, 'data.payload.text') ?? '',
    media,
    errors,
    ...(p.autoresponse_type !== undefined && {
      autoresponse_type: optStr(p.autoresponse_type, 'data.payload.autoresponse_type') ?? null,
    }),
    ...(typeof p.messaging_profile_id === 'string' && { messaging_profile_id: p.messaging_profile_id }),
    ...(typeof p.received_at === 'string' && { received_at: p.received_at }),
    ...(p.sent_at !== undefined && { sent_at: optStr(p.sent_at, 'data.payload.sent_at') ?? null }),
    ...(p.completed_at !== undefined && {
      completed_at: optStr(p.completed_at, 'data.payload.completed_at') ?? null,
    }),
  }
}

function meta (value: unknown): TelnyxEventMeta | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const m = value as Obj
  return {
    ...(typeof m.attempt === 'number' && { attempt: m.attempt }),
    ...(typeof m.delivered_to === 'string' && { delivered_to: m.delivered_to }),
  }
}

/**
 * Validates a message.received / message.sent / message.finalized webhook and returns a normalized copy
 * (missing media and errors become empty arrays, a null text becomes ''). Any event has the envelope
 * (id, type, time); other event types are returned as unsupported, so the caller can acknowledge them.
 * Throws INVALID_WEBHOOK_PAYLOAD naming the first field that is wrong.
 */
export function parseTelnyxEvent (json: unknown): ParsedWebhook {
  try {
    const body = obj(json, 'body')
    const data = obj(body.data, 'data')
    const eventType = str(data.event_type, 'data.event_type')
    const id = str(data.id, 'data.id')
    const occurredAt = str(data.occurred_at, 'data.occurred_at')
    if (!MESSAGE_EVENT_TYPES.has(eventType)) return { kind: 'unsupported', eventId: id, eventType }
    const m = meta(body.meta)
    const event = {
      data: {
        id,
        event_type: eventType as TelnyxMessageEventType,
        occurred_at: occurredAt,
        ...(typeof data.record_type === 'string' && { record_type: data.record_type }),
        payload: payload(data.payload, eventType)
      },
      ...(m && { meta: m })
    } as TelnyxMessageEvent
    return { kind: 'message', event }
  } catch (err) {
    if (err instanceof Invalid) throw new ERRORS.InvalidWebhookPayload(err.message)
    throw err
  }
}

export type HttpHeaders = Record<string, string | string[] | undefined>

export interface TelnyxWebhookVerifier {
  /** The body as JSON, when signed by Telnyx within the last 300 s; the SDK's reason is the error's cause. */
  verify(rawBody: string, headers: HttpHeaders): Promise<unknown>
}

// The SDK wants Record<string, string>; Node gives arrays only for repeated headers, which Telnyx never sends.
function flattenHeaders (headers: HttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) flat[name.toLowerCase()] = first
  }
  return flat
}

export function createTelnyxWebhookVerifier ({ publicKey }: { publicKey: string }): TelnyxWebhookVerifier {
  // The SDK decodes and checks the key, once: a malformed key would otherwise surface as a signature
  // failure on every webhook; it fails here, at start-up, instead. Verifying is signature.ts's.
  let key: KeyObject
  try {
    // (It keeps the decoded bytes private; once it accepted the string, Buffer decodes it the same.)
    void new TelnyxWebhook(publicKey)
    key = importTelnyxKey(Buffer.from(publicKey, 'base64'))
  } catch (err) {
    throw new Error('TELNYX_PUBLIC_KEY must be the base64 ed25519 public key from the Telnyx portal', {
      cause: err,
    })
  }

  return {
    async verify (rawBody, headers) {
      try {
        // The signature first: nothing of an unverified body is parsed.
        checkTelnyxSignature(key, rawBody, flattenHeaders(headers))
      } catch (err) {
        const rejected = new ERRORS.InvalidWebhookSignature()
        rejected.cause = err
        throw rejected
      }
      try {
        return JSON.parse(rawBody) as unknown
      } catch {
        throw new ERRORS.InvalidWebhookPayload('Webhook body is not valid JSON')
      }
    }
  }
}
