// A stand-in for the part of the Stripe API the billing service uses, on 127.0.0.1, so the real SDK can
// be driven in tests: customers (create, retrieve, delete, search by metadata) and subscriptions (create).
// Bodies are form-encoded as the SDK sends them; Idempotency-Key replays the first answer, as Stripe does.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

type Params = Record<string, unknown>

export interface FakeStripeCall {
  method: string
  path: string
  body: Params
  idempotencyKey: string | undefined
}

export interface FakeCustomer {
  id: string
  object: 'customer'
  email: string | null
  name: string | null
  metadata: Record<string, string>
  created: number
  livemode: false
}

export interface FakeStripe {
  /** Origin of the server (no /v1): pass as the billing service's apiBaseUrl. */
  baseUrl: string
  /** Every request that reached the server, oldest first; shows retries and idempotency keys. */
  calls: FakeStripeCall[]
  customers: Map<string, FakeCustomer>
  /** The next `times` authenticated requests answer `status` with a Stripe-shaped error. */
  failNext: (status: number, times?: number) => void
  close: () => Promise<void>
}

interface Answer { status: number, body: unknown }

const newId = (prefix: string): string => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`
const now = (): number => Math.floor(Date.now() / 1000)

function stripeError (status: number, message: string, code?: string): Answer {
  const type = status >= 500 ? 'api_error' : status === 429 ? 'rate_limit_error' : 'invalid_request_error'
  return { status, body: { error: { type, message, ...(code === undefined ? {} : { code }) } } }
}

/** `metadata[tenantId]=x&items[0][price]=p` -> `{ metadata: { tenantId: 'x' }, items: [{ price: 'p' }] }`. */
export function parseForm (text: string): Params {
  const root: Params = {}
  for (const [key, value] of new URLSearchParams(text)) {
    const parts = key.split(/\]\[|\[|\]/).filter((part) => part !== '')
    let node: Params = root
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = value
      else node = (node[part] ??= {}) as Params
    })
  }
  const arrays = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value
    const entries = Object.entries(value as Params).map(([k, v]) => [k, arrays(v)] as const)
    return entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k))
      ? entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => v)
      : Object.fromEntries(entries)
  }
  return arrays(root) as Params
}

/** Supports the one search form we use: `metadata['key']:'value'` (optionally several joined by AND). */
function matchesQuery (customer: FakeCustomer, query: string): boolean {
  const clauses = [...query.matchAll(/metadata\[['"]([^'"]+)['"]\]\s*:\s*'((?:[^'\\]|\\.)*)'/g)]
  if (clauses.length === 0) return false
  return clauses.every(([, key, value]) => key !== undefined && customer.metadata[key] === value?.replace(/\\(.)/g, '$1'))
}

function metadataOf (body: Params): Record<string, string> {
  const metadata = body.metadata
  return typeof metadata === 'object' && metadata !== null ? { ...(metadata as Record<string, string>) } : {}
}

async function readBody (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function startFakeStripe (): Promise<FakeStripe> {
  const calls: FakeStripeCall[] = []
  const customers = new Map<string, FakeCustomer>()
  const idempotent = new Map<string, { method: string, path: string, answer: Answer }>()
  const failures: number[] = []

  function route (method: string, path: string, query: URLSearchParams, body: Params): Answer {
    const customerPath = /^\/v1\/customers\/(cus_[A-Za-z0-9]+)$/.exec(path)
    if (method === 'POST' && path === '/v1/customers') {
      const customer: FakeCustomer = {
        id: newId('cus'),
        object: 'customer',
        email: typeof body.email === 'string' ? body.email : null,
        name: typeof body.name === 'string' ? body.name : null,
        metadata: metadataOf(body),
        created: now(),
        livemode: false
      }
      customers.set(customer.id, customer)
      return { status: 200, body: customer }
    }
    if (method === 'GET' && path === '/v1/customers/search') {
      const data = [...customers.values()].filter((c) => matchesQuery(c, query.get('query') ?? ''))
      return { status: 200, body: { object: 'search_result', data, has_more: false, next_page: null, url: '/v1/customers/search' } }
    }
    if (customerPath !== null && (method === 'GET' || method === 'DELETE')) {
      const id = customerPath[1] ?? ''
      const customer = customers.get(id)
      if (customer === undefined) return stripeError(404, `No such customer: '${id}'`, 'resource_missing')
      if (method === 'GET') return { status: 200, body: customer }
      customers.delete(id)
      return { status: 200, body: { id, object: 'customer', deleted: true } }
    }
    if (method === 'POST' && path === '/v1/subscriptions') {
      const customerId = typeof body.customer === 'string' ? body.customer : ''
      if (!customers.has(customerId)) return stripeError(400, `No such customer: '${customerId}'`, 'resource_missing')
      const items = Array.isArray(body.items) ? body.items as Params[] : []
      if (items.length === 0) return stripeError(400, 'Missing required param: items.', 'parameter_missing')
      const trialDays = Number(body.trial_period_days ?? 0)
      const start = now()
      return {
        status: 200,
        body: {
          id: newId('sub'),
          object: 'subscription',
          customer: customerId,
          status: trialDays > 0 ? 'trialing' : 'active',
          created: start,
          trial_start: trialDays > 0 ? start : null,
          trial_end: trialDays > 0 ? start + trialDays * 86_400 : null,
          metadata: metadataOf(body),
          items: { object: 'list', data: items.map((item) => ({ id: newId('si'), object: 'subscription_item', price: { id: item.price, object: 'price' } })) },
          livemode: false
        }
      }
    }
    return stripeError(404, `Unrecognized request URL (${method}: ${path})`)
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<Answer> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const method = req.method ?? 'GET'
    const text = await readBody(req)
    const body = text === '' ? {} : parseForm(text)
    const header = req.headers['idempotency-key']
    const idempotencyKey = Array.isArray(header) ? header[0] : header
    calls.push({ method, path: url.pathname, body, idempotencyKey })
    if (res.destroyed) return { status: 499, body: null }

    if (!/^Bearer sk_\S+$/.test(req.headers.authorization ?? '')) {
      return stripeError(401, 'Invalid API Key provided')
    }
    const failure = failures.shift()
    if (failure !== undefined) return stripeError(failure, `Scripted ${failure} from the fake Stripe API`)

    if (idempotencyKey !== undefined && method === 'POST') {
      const seen = idempotent.get(idempotencyKey)
      if (seen !== undefined) {
        return seen.method === method && seen.path === url.pathname
          ? seen.answer
          : stripeError(400, 'Keys for idempotent requests can only be used with the same parameters they were first used with.', 'idempotency_key_in_use')
      }
      const answer = route(method, url.pathname, url.searchParams, body)
      idempotent.set(idempotencyKey, { method, path: url.pathname, answer })
      return answer
    }
    return route(method, url.pathname, url.searchParams, body)
  }

  const server = createServer((req, res) => {
    handle(req, res)
      .catch((error: unknown) => stripeError(500, String(error)))
      .then((answer) => {
        if (res.destroyed) return
        res.writeHead(answer.status, { 'content-type': 'application/json', 'request-id': newId('req') })
        res.end(JSON.stringify(answer.body))
      })
      .catch(() => { res.destroy() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    calls,
    customers,
    failNext (status, times = 1) {
      for (let i = 0; i < times; i++) failures.push(status)
    },
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close((error) => { if (error === undefined) resolve(); else reject(error) }))
    }
  }
}
