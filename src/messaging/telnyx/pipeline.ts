// Every Telnyx webhook takes this one path: verify the signature, parse once, hand the event to its
// handler (inbound messages, or delivery status for sent and finalized), and count what happened.
// The counters live here only; operators read them at GET /api/platform/webhooks.
import type { FastifyBaseLogger } from 'fastify'
import type { InboundResult, InboundService } from '../inbound/inbound-service.js'
import type { DeliveryStatus } from '../sending/delivery-status.js'
import { cleanStrings, isStorable } from '../../util/storable-text.js'
import { parseTelnyxEvent, type HttpHeaders, type MessageReceivedEvent, type TelnyxMessageEvent, type TelnyxWebhookVerifier } from './webhook.js'
import { ERRORS } from '../../errors.js'

export interface WebhookStats {
  received: number
  stored: number
  duplicates: number
  unrouted: number
  ignored: number
  invalid: number
  rejected: number
  statusEvents: number
  replies: number
  replyFailures: number
}

export type WebhookOutcome = InboundResult['outcome'] | 'ignored' | 'status' | 'held'

const newWebhookStats = (): WebhookStats => ({
  received: 0, stored: 0, duplicates: 0, unrouted: 0, ignored: 0, invalid: 0, rejected: 0, statusEvents: 0, replies: 0, replyFailures: 0
})

const COUNTER: Record<InboundResult['outcome'], keyof WebhookStats> = { stored: 'stored', duplicate: 'duplicates', unrouted: 'unrouted' }

export function createTelnyxPipeline (deps: {
  /** Undefined without TELNYX_PUBLIC_KEY: every webhook is then refused. */
  verifier: TelnyxWebhookVerifier | undefined
  inbound: Pick<InboundService, 'receive'>
  deliveryStatus: Pick<DeliveryStatus, 'handle'>
  /** A tenant frozen by a move gets the event later, from the registry (src/tenancy/moves/held-webhooks.ts). */
  hold?: { holdIfFrozen: (event: TelnyxMessageEvent) => Promise<boolean> }
  log: FastifyBaseLogger
}) {
  const { verifier, inbound, deliveryStatus, log } = deps
  const stats = newWebhookStats()

  async function verified (rawBody: unknown, headers: HttpHeaders): Promise<unknown> {
    if (verifier === undefined || typeof rawBody !== 'string') throw new ERRORS.InvalidWebhookSignature()
    return await verifier.verify(rawBody, headers)
  }

  async function dispatch (event: TelnyxMessageEvent): Promise<WebhookOutcome> {
    if (isReceived(event)) {
      const result = await inbound.receive(event)
      stats[COUNTER[result.outcome]]++
      if (result.reply === 'sent') stats.replies++
      if (result.reply === 'failed') stats.replyFailures++
      return result.outcome
    }
    stats.statusEvents++
    await deliveryStatus.handle(event)
    return 'status'
  }

  /** Throws INVALID_WEBHOOK_SIGNATURE (401) or INVALID_WEBHOOK_PAYLOAD (400); anything else is ours (5xx, Telnyx retries). */
  async function handle (rawBody: unknown, headers: HttpHeaders): Promise<WebhookOutcome> {
    stats.received++
    let parsed: ReturnType<typeof parseTelnyxEvent>
    try {
      // The carrier's text may hold what PostgreSQL cannot store (NUL, broken surrogates): cleaned, not refused.
      const body = await verified(rawBody, headers)
      parsed = parseTelnyxEvent(mayHoldUnstorable(rawBody as string) ? cleanStrings(body) : body)
    } catch (error) {
      const code = (error as { code?: string }).code
      if (code === 'INVALID_WEBHOOK_SIGNATURE') stats.rejected++
      if (code === 'INVALID_WEBHOOK_PAYLOAD') {
        stats.invalid++
        log.warn({ reason: (error as Error).message }, 'invalid telnyx webhook')
      }
      throw error
    }
    if (parsed.kind === 'unsupported') {
      stats.ignored++
      return 'ignored'
    }
    // A tenant frozen by a move gets the event later, from the registry: accepted all the same.
    if (await deps.hold?.holdIfFrozen(parsed.event) === true) return 'held'
    return await dispatch(parsed.event)
  }

  return { handle, dispatch, stats }
}

// Parsed JSON gets NUL or an unpaired surrogate only from a \u escape (JSON allows neither raw NUL
// nor, once HTTP decoding has turned broken UTF-8 into U+FFFD, a raw surrogate), or from the raw text
// itself: a body with neither, the bulk, skips the copying walk of cleanStrings.
const UNSTORABLE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})/
const mayHoldUnstorable = (raw: string): boolean => !isStorable(raw) || UNSTORABLE_ESCAPE.test(raw)

function isReceived (event: TelnyxMessageEvent): event is MessageReceivedEvent {
  return event.data.event_type === 'message.received'
}

export type TelnyxPipeline = ReturnType<typeof createTelnyxPipeline>
