// Sends one SMS/MMS through Telnyx, or records it in memory in local mode (no API key).
// The SDK never retries (maxRetries: 0): the job queue owns retries, and SendError.kind tells it whether to.
import { randomUUID } from 'node:crypto'
import Telnyx, { APIError } from 'telnyx'
import type { Logger } from 'pino'

export interface SendInput {
  from: string
  to: string
  text: string
  mediaUrls?: readonly string[]
}

export interface LocalSend extends SendInput {
  providerMessageId: string
  sentAt: Date
}

export interface TelnyxSenderOptions {
  apiKey?: string | undefined
  baseUrl?: string | undefined
  messagingProfileId?: string | undefined
  webhookUrl?: string | undefined
  /** Per request; a send that takes longer is abandoned as transient. */
  timeoutMs?: number | undefined
  log: Pick<Logger, 'info' | 'warn'>
}

export interface TelnyxSender {
  mode: 'telnyx' | 'local'
  send(input: SendInput): Promise<{ providerMessageId: string }>
  /** Local mode's recent sends, oldest first (at most 1000); always empty in telnyx mode. */
  localOutbox(): readonly LocalSend[]
}

export type SendErrorKind = 'transient' | 'permanent'

export class SendError extends Error {
  readonly code = 'SMS_SEND_FAILED'
  readonly kind: SendErrorKind
  readonly status?: number
  readonly providerCode?: string

  constructor (
    message: string,
    details: { kind: SendErrorKind, status?: number | undefined, providerCode?: string | undefined },
    options?: ErrorOptions
  ) {
    super(message, options)
    this.name = 'SendError'
    this.kind = details.kind
    if (details.status !== undefined) this.status = details.status
    if (details.providerCode !== undefined) this.providerCode = details.providerCode
  }
}

const LOCAL_OUTBOX_LIMIT = 1000
const DEFAULT_BASE_URL = 'https://api.telnyx.com/v2'
const DEFAULT_TIMEOUT_MS = 15_000

// Telnyx error bodies are { errors: [{ code, title, detail }] }; the first code is the useful one.
function providerCodeOf (body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const errors = (body as { errors?: unknown }).errors
  if (!Array.isArray(errors)) return undefined
  const code = (errors[0] as { code?: unknown } | undefined)?.code
  return typeof code === 'string' || typeof code === 'number' ? String(code) : undefined
}

export function toSendError (err: unknown): SendError {
  if (err instanceof SendError) return err
  if (err instanceof APIError) {
    const status = err.status
    // No status means the request never got an answer (refused, reset, timed out): worth another try.
    const transient = status === undefined || status === 408 || status === 429 || status >= 500
    return new SendError(
      err.message,
      { kind: transient ? 'transient' : 'permanent', status, providerCode: providerCodeOf(err.error) },
      { cause: err }
    )
  }
  // Anything else happened before a response could be trusted; the message was not accepted.
  const message = err instanceof Error ? err.message : String(err)
  return new SendError(message, { kind: 'transient' }, { cause: err })
}

export function createTelnyxSender (opts: TelnyxSenderOptions): TelnyxSender {
  const outbox: LocalSend[] = []

  function localOutbox (): readonly LocalSend[] {
    return outbox
  }

  if (!opts.apiKey) {
    return {
      mode: 'local',
      async send (input) {
        const providerMessageId = `local-${randomUUID()}`
        outbox.push({ ...input, providerMessageId, sentAt: new Date() })
        if (outbox.length > LOCAL_OUTBOX_LIMIT) outbox.splice(0, outbox.length - LOCAL_OUTBOX_LIMIT)
        opts.log.info({ providerMessageId, from: input.from, to: input.to }, 'sms recorded locally (no Telnyx key)')
        return { providerMessageId }
      },
      localOutbox,
    }
  }

  // Every option is explicit so the SDK does not fall back to TELNYX_* environment variables.
  const client = new Telnyx({
    apiKey: opts.apiKey,
    baseURL: opts.baseUrl ?? DEFAULT_BASE_URL,
    publicKey: null,
    clientID: null,
    clientSecret: null,
    maxRetries: 0,
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    logLevel: 'off',
  })

  return {
    mode: 'telnyx',
    async send (input) {
      let id: string | undefined
      try {
        const res = await client.messages.send({
          from: input.from,
          to: input.to,
          // Telnyx rejects an empty text; a picture-only MMS carries none.
          ...(input.text !== '' && { text: input.text }),
          ...(input.mediaUrls?.length && { media_urls: [...input.mediaUrls] }),
          ...(opts.messagingProfileId && { messaging_profile_id: opts.messagingProfileId }),
          ...(opts.webhookUrl && { webhook_url: opts.webhookUrl }),
        })
        id = res.data?.id
      } catch (err) {
        const sendError = toSendError(err)
        opts.log.warn(
          { kind: sendError.kind, status: sendError.status, providerCode: sendError.providerCode },
          'telnyx send failed'
        )
        throw sendError
      }
      // Accepted but unidentifiable: retrying could text the member twice, so do not.
      if (!id) throw new SendError('Telnyx accepted the message but returned no id', { kind: 'permanent' })
      return { providerMessageId: id }
    },
    localOutbox,
  }
}
