// Shared set-up for the messaging tests: a signed-up organization with a number, signed Telnyx
// webhooks against the fake Telnyx API, and direct SQL on a tenant's database.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { build, registerOrganization, testServerUrl } from '../helper.js'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { createTelnyxSigner, type TelnyxSigner } from './telnyx-signer.js'
import { startFakeTelnyx, type FakeTelnyx } from './fake-telnyx.js'

export interface Org { tenantId: string, accessToken: string, auth: { authorization: string } }

export async function signup (app: FastifyInstance, churchName = 'First Church'): Promise<Org> {
  const { tenantId, accessToken } = (await registerOrganization(app, churchName)).json() as { tenantId: string, accessToken: string }
  return { tenantId, accessToken, auth: { authorization: `Bearer ${accessToken}` } }
}

export async function assignNumber (app: FastifyInstance, org: Org, phoneNumber: string): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: org.auth, payload: { phoneNumber } })
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(res.body)
}

let seq = Math.floor(Math.random() * 5000)
export const uniqueNumber = (): string => `+1312555${String(1000 + (seq++ % 9000)).padStart(4, '0')}`

export interface Inbound { eventId?: string, messageId?: string, from?: string, to: string, text?: string, media?: unknown[], autoresponse?: string, eventType?: string }

export function inboundEvent (i: Inbound): Record<string, unknown> {
  return {
    data: {
      id: i.eventId ?? randomUUID(),
      event_type: i.eventType ?? 'message.received',
      occurred_at: new Date().toISOString(),
      record_type: 'event',
      payload: {
        id: i.messageId ?? randomUUID(),
        direction: 'inbound',
        type: 'SMS',
        from: { phone_number: i.from ?? '+13125550100', carrier: 'T-Mobile', line_type: 'Wireless' },
        to: [{ phone_number: i.to, status: 'webhook_delivered' }],
        text: i.text ?? 'Hello church',
        media: i.media ?? [],
        errors: [],
        received_at: new Date().toISOString(),
        ...(i.autoresponse !== undefined && { autoresponse_type: i.autoresponse })
      }
    },
    meta: { attempt: 1, delivered_to: 'https://example.org/webhooks/telnyx' }
  }
}

export async function postWebhook (app: FastifyInstance, signer: TelnyxSigner, body: unknown, headers: Record<string, string> = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body)
  return await app.inject({
    method: 'POST',
    url: '/webhooks/telnyx',
    headers: { 'content-type': 'application/json', ...signer.sign(raw), ...headers },
    payload: raw
  })
}

export async function tenantSql<R = Record<string, unknown>> (app: FastifyInstance, tenantId: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: tenantId } })
  return await withClient(withDatabase(await testServerUrl(), tenant.databaseName), async (c) => (await c.query(sql, params)).rows as R[])
}

export async function telnyxApp (t: { teardown: (fn: () => unknown) => void }, opts: { apiKey?: boolean, publicKey?: boolean } = {}): Promise<{ app: FastifyInstance, signer: TelnyxSigner, fake: FakeTelnyx }> {
  const signer = createTelnyxSigner()
  const fake = await startFakeTelnyx()
  t.teardown(async () => { await fake.close() })
  const env: Record<string, string> = { TELNYX_BASE_URL: fake.baseUrl }
  if (opts.apiKey !== false) env.TELNYX_API_KEY = 'KEY_test_0123456789'
  if (opts.publicKey !== false) env.TELNYX_PUBLIC_KEY = signer.publicKeyBase64
  const app = await build(t, env)
  return { app, signer, fake }
}
