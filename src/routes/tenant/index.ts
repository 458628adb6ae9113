// The tenant context: routes for the signed-in admin of one organization. Each route registered here
// is authenticated and holds its tenant's database lease (see context.ts) without a line of its own;
// handlers reach the tenant through tenantOf(request). Each route declares its permission
// (config: { permission }, src/auth/permissions.ts), checked after authentication. A new tenant route is one line below.
import type { FastifyInstance } from 'fastify'
import { useTenantContext } from './context.js'

export default async function tenantRoutes (app: FastifyInstance): Promise<void> {
  useTenantContext(app)
  await app.register(import('./me.js'))
  await app.register(import('./members.js'))
  await app.register(import('./branches.js'))
  await app.register(import('./templates.js'))
  await app.register(import('./messages.js'))
  await app.register(import('./recurring-messages.js'))
  await app.register(import('./conversations.js'))
  await app.register(import('./phone-numbers.js'))
  await app.register(import('./admins.js'))
  await app.register(import('./invitations.js'))
  await app.register(import('./account-security.js'))
  await app.register(import('./account-exports.js'))
  await app.register(import('./account-deletion.js'))
}
