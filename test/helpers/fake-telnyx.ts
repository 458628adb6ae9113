// A stand-in for the Telnyx messaging API on 127.0.0.1, so the real SDK can be driven in tests:
// POST {baseUrl}/messages (the SDK's base URL ends in /v2), with scripted failures and latency.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeSend {
  /** The message id the fake answered with. */
  id: string
  body: Record<string, unknown>
  receivedAt: Date
  authorization: string
}

export interface FakeTelnyx {
  /** Pass as the SDK's baseURL. */
  baseUrl: string
  /** Requests accepted (authenticated, valid, not scripted to fail), oldest first. */
  sent: FakeSend[]
  /** Every request that reached the server, accepted or not; shows whether a client retried. */
  readonly requestCount: number
  failNext(status: number, times?: number, body?: unknown): void
  setLatency(ms: number): void
  reset(): void
  close(): Promise<void>
}

interface Failure {
  status: number
  body: unknown
}

// Telnyx answers errors as { errors: [{ code, title, detail }] }.
function errorBody (status: number): unknown {
  const [code, title] =
    status === 401
      ? ['10009', 'Authentication failed']
      : status === 429
        ? ['10011', 'Too many requests']
        : status >= 500
          ? ['10007', 'Unexpected error']
          : ['10015', 'Bad Request']
  return { errors: [{ code, title, detail: `Scripted ${status} from the fake Telnyx API.` }] }
}

function reply (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

async function readJson (req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function messageResponse (body: Record<string, unknown>) {
  const mediaUrls = Array.isArray(body.media_urls) ? (body.media_urls as string[]) : []
  const now = new Date()
  return {
    data: {
      record_type: 'message',
      direction: 'outbound',
      id: randomUUID(),
      type: mediaUrls.length > 0 ? 'MMS' : 'SMS',
      messaging_profile_id: body.messaging_profile_id ?? null,
      organization_id: '9d0b4e4a-3a4b-4f3b-8a4e-2f6d6c1b2a11',
      from: { phone_number: body.from ?? null, carrier: 'Telnyx', line_type: 'Wireless' },
      to: [{ phone_number: body.to, status: 'queued', carrier: '', line_type: '' }],
      cc: [],
      text: body.text ?? '',
      media: mediaUrls.map((url) => ({ url, content_type: null, sha256: null, size: null })),
      webhook_url: body.webhook_url ?? null,
      webhook_failover_url: body.webhook_failover_url ?? null,
      encoding: 'GSM-7',
      parts: 1,
      tags: [],
      cost: null,
      received_at: now.toISOString(),
      sent_at: null,
      completed_at: null,
      valid_until: new Date(now.getTime() + 3_600_000).toISOString(),
      errors: [],
    },
  }
}

export async function startFakeTelnyx (): Promise<FakeTelnyx> {
  const sent: FakeSend[] = []
  let failures: Failure[] = []
  let latencyMs = 0
  let requestCount = 0

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    requestCount += 1
    const body = await readJson(req)
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs))
    // The client gave up while we slept; do not let its request consume a failure scripted for the next one.
    if (req.socket.destroyed) return

    const authorization = req.headers.authorization ?? ''
    if (!/^Bearer \S+/.test(authorization)) return reply(res, 401, errorBody(401))
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v2/messages') {
      return reply(res, 404, { errors: [{ code: '10005', title: 'Resource not found', detail: req.url }] })
    }
    const failure = failures.shift()
    if (failure) return reply(res, failure.status, failure.body)

    if (!body) return reply(res, 400, { errors: [{ code: '10015', title: 'Bad Request', detail: 'Invalid JSON' }] })
    if (typeof body.to !== 'string' || body.to === '') {
      return reply(res, 422, { errors: [{ code: '40310', title: 'Invalid \'to\' address', detail: 'to is required' }] })
    }
    if (typeof body.from !== 'string' && typeof body.messaging_profile_id !== 'string') {
      return reply(res, 422, { errors: [{ code: '40305', title: 'Invalid \'from\' address', detail: 'from is required' }] })
    }
    const response = messageResponse(body)
    sent.push({ id: response.data.id, body, receivedAt: new Date(), authorization })
    reply(res, 200, response)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, { errors: [{ code: '10007', title: String(err) }] }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    baseUrl: `http://127.0.0.1:${port}/v2`,
    sent,
    get requestCount () {
      return requestCount
    },
    failNext (status, times = 1, body = errorBody(status)) {
      for (let i = 0; i < times; i++) failures.push({ status, body })
    },
    setLatency (ms) {
      latencyMs = ms
    },
    reset () {
      sent.length = 0
      failures = []
      latencyMs = 0
      requestCount = 0
    },
    close () {
      server.closeAllConnections()
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
    },
  }
}
