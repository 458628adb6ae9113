// The permission table on every route: every operation of the OpenAPI document is called with a
// staff, an admin and an owner token, and what each role may do is stated here independently of
// src/auth/permissions.ts (the rules), so a route with the wrong permission fails.
import { readFile } from 'node:fs/promises'
import t from 'tap'
import Fastify from 'fastify'
import { build } from '../helper.js'
import { addTeammate, bearer, signUp } from '../helpers/team.js'
import permissions from '../../src/plugins/app/permissions.js'
import { PERMISSIONS, ROLES, type Role } from '../../src/auth/permissions.js'

// One app (and registry) for the whole file: each test works in organizations of its own.
const app = await build(t)

type Expected = Role | 'public' | 'operator'

const PUBLIC = new Set(['GET /health', 'GET /ready', 'GET /api/invitations/{token}', 'POST /api/invitations/{token}/accept', 'GET /api/organizations/{slug}', 'GET /downloads/exports/{id}'])

/** The rules: staff read and answer conversations and see members; admins also manage the
 * organization's content, numbers and team; only owners manage billing, export, deletion, roles,
 * owners and security. */
function expectedRole (method: string, path: string): Expected {
  if (path.startsWith('/api/platform/') || path === '/metrics') return 'operator'
  if (PUBLIC.has(`${method} ${path}`) || path.startsWith('/api/auth/') || path.startsWith('/webhooks/')) return 'public'
  if (/^\/api\/(account\/(exports|deletion)|billing|organization\/security)/.test(path) || (method === 'PATCH' && path === '/api/admins/{id}')) return 'OWNER'
  if (path === '/api/me' || path.startsWith('/api/account/') || path.startsWith('/api/conversations')) return 'STAFF'
  if (path.startsWith('/api/members') && method === 'GET') return 'STAFF'
  return 'ADMIN'
}

const rank = (role: Role): number => ROLES.indexOf(role)
const PARAMS: Record<string, string> = { token: 'A'.repeat(43), slug: 'no-such-church', phoneNumber: '+15555550123' }
const fill = (path: string): string => path.replace(/\{(\w+)\}/g, (_m, name: string) => PARAMS[name] ?? '00000000-0000-4000-8000-000000000000')

t.test('every operation of the OpenAPI document enforces the permission table for each role', async (t) => {
  const owner = await signUp(app, 'Permission Church')
  const tokens: Record<Role, string> = {
    OWNER: owner.accessToken,
    ADMIN: (await addTeammate(app, owner.accessToken, 'ADMIN')).accessToken,
    STAFF: (await addTeammate(app, owner.accessToken, 'STAFF')).accessToken
  }
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> }
  let operations = 0
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const lower of Object.keys(ops)) {
      const method = lower.toUpperCase()
      if (method === 'HEAD') continue
      operations++
      const expected = expectedRole(method, path)
      const declared = app.routeAccess.get(`${method} ${path.replace(/\{(\w+)\}/g, ':$1')}`)
      t.ok(declared !== undefined, `${method} ${path} declares a permission`)
      const declaredRole = declared === 'public' || declared === 'operator' || declared === undefined ? declared : PERMISSIONS[declared]
      t.equal(declaredRole, expected, `${method} ${path} needs ${expected}`)
      if (expected === 'public') continue
      for (const role of ROLES) {
        // An unknown media type: a permitted call stops at 415 before touching anything.
        const res = await app.inject({
          method: method as 'GET', url: fill(path), headers: { ...bearer(tokens[role]), ...(method === 'GET' ? {} : { 'content-type': 'application/x-probe' }) }, ...(method === 'GET' ? {} : { payload: 'x' })
        })
        const code = (res.json() as { code?: string }).code
        if (expected === 'operator') {
          t.equal(res.statusCode, 401, `${role} token cannot call the operator route ${method} ${path}`)
        } else if (rank(role) >= rank(expected)) {
          t.not(code, 'PERMISSION_DENIED', `${role} may ${method} ${path} (${res.statusCode})`)
          t.not(res.statusCode, 401, `${role} is authenticated on ${method} ${path}`)
        } else {
          t.equal(res.statusCode, 403, `${role} may not ${method} ${path}`)
          t.equal(code, 'PERMISSION_DENIED')
        }
      }
    }
  }
  t.ok(operations > 40, `walked ${operations} operations`)
})

t.test('a route that declares no permission cannot be registered', async (t) => {
  const app = Fastify()
  t.teardown(async () => { await app.close() })
  await app.register(permissions)
  await t.rejects(async () => {
    await app.register(async (child) => { child.get('/forgotten', async () => 'open') })
    await app.ready()
  }, /GET \/forgotten declares no valid permission/)
})

t.test("README's permission table is the table in src/auth/permissions.ts", async (t) => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
  const rows = Object.fromEntries([...readme.matchAll(/^\| `([a-z.]+)` \| (STAFF|ADMIN|OWNER) \|/gm)].map((m) => [m[1], m[2]]))
  t.same(rows, PERMISSIONS)
})
