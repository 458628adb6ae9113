// The world the OpenAPI fuzzer acts on: two organizations with a few rows each, tokens of every kind
// (valid, expired, forged, another tenant's), and a fingerprint of everything each tenant owns.
import { createSigner } from 'fast-jwt'
import pg from 'pg'
import type { FastifyInstance } from 'fastify'
import { TEST_SECRETS, testServerUrl } from '../helper.js'
import { withDatabase } from '../../src/db/pg-admin.js'
import { JWT_AUDIENCE, JWT_ISSUER } from '../../src/plugins/app/auth.js'
import { assignNumber, signup, uniqueNumber, type Org } from '../helpers/messaging-fixture.js'

export interface FuzzTenant extends Org {
  adminId: string
  number: string
  ids: string[]
  fingerprint: () => Promise<string>
  close: () => Promise<void>
}

async function created (app: FastifyInstance, org: Org, url: string, payload: Record<string, unknown>): Promise<string> {
  const res = await app.inject({ method: 'POST', url, headers: org.auth, payload })
  if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
  return res.json().id as string
}

export async function fuzzTenant (app: FastifyInstance, name: string): Promise<FuzzTenant> {
  const org = await signup(app, name)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const claims = app.jwt.decode<{ adminId: string }>(org.accessToken)
  const branch = await created(app, org, '/api/branches', { name: `${name} choir` })
  const member = await created(app, org, '/api/members', { firstName: 'Ruth', lastName: name, phone: uniqueNumber(), branchIds: [branch] })
  const template = await created(app, org, '/api/templates', { name: `${name} welcome`, body: 'Hi {{firstName}}' })
  const recurring = await created(app, org, '/api/recurring-messages', { name: 'Weekly', schedule: '0 9 * * 0', text: 'See you Sunday' })
  const message = await created(app, org, '/api/messages', { text: 'Hello', memberIds: [member], sendAt: '2099-01-01T10:00:00Z' })
  const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })
  const db = new pg.Client({ connectionString: withDatabase(await testServerUrl(), tenant.databaseName) })
  await db.connect()
  const tables = (await db.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1")).rows.map((r) => r.name)
  // Every row of every table (and the tenant's phone routes in the registry), as one digest per table.
  const sql = tables.map((table) => `SELECT '${table}' AS t, md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS h FROM "${table}" x`).join(' UNION ALL ')
  return {
    ...org,
    adminId: claims?.adminId ?? '',
    number,
    ids: [org.tenantId, branch, member, template, recurring, message, number],
    async fingerprint () {
      const rows = (await db.query<{ t: string, h: string }>(sql)).rows
      const routes = await app.registry.phoneNumberRegistry.findMany({ where: { tenantId: org.tenantId }, orderBy: { phoneNumber: 'asc' } })
      return JSON.stringify([rows, routes])
    },
    async close () { await db.end() }
  }
}

export type Actor = 'A' | 'B' | 'expired' | 'forged' | 'none' | 'garbage' | 'operator'

export function authorization (actor: Actor, a: FuzzTenant, b: FuzzTenant): Record<string, string> {
  const claims = { tenantId: a.tenantId, adminId: a.adminId, role: 'OWNER' }
  switch (actor) {
    case 'A': return a.auth
    case 'B': return b.auth
    case 'expired': {
      const sign = createSigner({ key: TEST_SECRETS.JWT_SECRET, algorithm: 'HS256', iss: JWT_ISSUER, aud: JWT_AUDIENCE, expiresIn: 60_000, clockTimestamp: Date.now() - 3_600_000 })
      return { authorization: `Bearer ${sign(claims)}` }
    }
    case 'forged': {
      const sign = createSigner({ key: 'another-secret-that-is-long-enough-0123456789', algorithm: 'HS256', iss: JWT_ISSUER, aud: JWT_AUDIENCE, expiresIn: 60_000 })
      return { authorization: `Bearer ${sign(claims)}` }
    }
    case 'none': return {}
    case 'garbage': return { authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.` }
    case 'operator': return { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` }
  }
}
