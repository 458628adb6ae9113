// Shared by the backup, restore, export and deletion tests: an organization with members, reached
// through the API, and looks at what lives on the test server.
import type { FastifyInstance } from 'fastify'
import { hashEmail } from '../../src/auth/email.js'
import { hashPassword } from '../../src/auth/password.js'
import { withClient } from '../../src/db/pg-admin.js'
import { registerOrganization, testServerUrl } from '../helper.js'

export interface Org { tenantId: string, email: string, headers: { authorization: string } }

export const OPERATOR = { authorization: 'Bearer test-platform-admin-token-0123456789' }

export async function orgWithMembers (app: FastifyInstance, count: number, churchName = 'Grace Chapel'): Promise<Org> {
  const res = (await registerOrganization(app, churchName)).json()
  const org = { tenantId: res.tenantId as string, email: res.email as string, headers: { authorization: `Bearer ${res.accessToken as string}` } }
  for (let i = 0; i < count; i++) {
    const made = await app.inject({
      method: 'POST',
      url: '/api/members',
      headers: org.headers,
      payload: { firstName: `Member${i}`, lastName: 'Tab\there "quoted" \\ back', phone: `+1312555${String(1000 + i)}`, notes: i === 0 ? 'line one\nline two' : null }
    })
    if (made.statusCode !== 201) throw new Error(`member create failed: ${made.body}`)
  }
  return org
}

export async function memberNames (app: FastifyInstance, org: Org): Promise<string[]> {
  const res = await app.inject({ url: '/api/members?limit=200', headers: org.headers })
  if (res.statusCode !== 200) throw new Error(`member list failed: ${res.statusCode} ${res.body}`)
  return (res.json().items as Array<{ firstName: string }>).map((m) => m.firstName).sort()
}

/** Databases on the test server whose name starts with the tenant's. */
export async function tenantDatabases (tenantId: string): Promise<string[]> {
  return await withClient(await testServerUrl(), async (c) =>
    (await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname', [`tenant_${tenantId}%`])).rows.map((r) => r.datname))
}

/** A second admin of the organization with another role (as invitations will make), signed in. */
export async function addAdmin (app: FastifyInstance, org: Org, role: 'ADMIN' | 'STAFF'): Promise<Org> {
  const email = `${role.toLowerCase()}-${org.tenantId}@example.org`
  const passwordHash = await hashPassword('another long password')
  const admin = await app.pool.withTenant(org.tenantId, async (db) => await db.admin.create({ data: { email, passwordHash, firstName: 'Sam', lastName: 'Staff', role } }))
  await app.registry.adminEmailIndex.create({ data: { emailHash: hashEmail(app.config.secrets.emailHashKey, email), tenantId: org.tenantId, adminId: admin.id } })
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: 'another long password' } })
  if (login.statusCode !== 200) throw new Error(`login failed: ${login.body}`)
  return { tenantId: org.tenantId, email, headers: { authorization: `Bearer ${login.json().accessToken as string}` } }
}
