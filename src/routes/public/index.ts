// The public context: routes anyone may call. Sign-up and sign-in (password reset, the second factor,
// organization lookup, invitation view and accept), health and readiness, and the
// carrier and billing webhooks, which prove themselves by signature. (/docs comes from the swagger
// plugin.) A new public route is one line below.
import type { FastifyInstance } from 'fastify'

export default async function publicRoutes (app: FastifyInstance): Promise<void> {
  await app.register(import('./health.js'))
  await app.register(import('./auth.js'))
  await app.register(import('./auth-recovery.js'))
  await app.register(import('./invitations.js'))
  await app.register(import('./telnyx-webhook.js'))
  await app.register(import('./stripe-webhook.js'))
  await app.register(import('./export-downloads.js'))
}
