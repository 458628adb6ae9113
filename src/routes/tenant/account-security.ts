// The signed-in admin's own credentials (password, two-factor) and the organization's security
// settings (owners: require two-factor for everyone).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, NoContentSchema } from '../../schemas/common.js'
import { TokenPairSchema } from '../../schemas/auth.js'
import {
  MfaCodeBodySchema, MfaDisableBodySchema, MfaEnrollmentSchema, MfaStatusSchema, PasswordChangeBodySchema, RecoveryCodesSchema, SecuritySettingsSchema
} from '../../schemas/team.js'
import { tenantOf } from './context.js'
import { requiresTwoFactor, setRequiresTwoFactor } from '../../auth/mfa-challenges.js'
import { verifyPassword } from '../../auth/password.js'
import { ERRORS } from '../../errors.js'

const accountSecurityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const common = { tags: ['account'], security: [{ bearerAuth: [] }] }
  const self = { permission: 'account.self' as const }

  app.post('/api/account/password', {
    config: self, schema: { ...common, body: PasswordChangeBodySchema, response: { 200: TokenPairSchema, ...errorResponses(400, 401, 403) } }
  }, async (request) => {
    const { tenant, adminId, db } = tenantOf(request)
    await app.passwordReset.change(db, adminId, request.body.currentPassword, request.body.newPassword)
    // Every session ended with the old password; this one carries on with a fresh pair.
    return await app.auth.tokensFor(tenant.id, adminId)
  })

  app.get('/api/account/mfa', { config: self, schema: { ...common, response: { 200: MfaStatusSchema, ...errorResponses(401) } } }, async (request) => {
    const db = tenantOf(request).db
    return { ...await app.twoFactor.status(db, tenantOf(request).adminId), requiredByOrganization: await requiresTwoFactor(db) }
  })

  app.post('/api/account/mfa', {
    config: self, schema: { ...common, response: { 201: MfaEnrollmentSchema, ...errorResponses(401, 409) } }
  }, async (request, reply) => {
    const db = tenantOf(request).db
    const admin = await db.admin.findUnique({ where: { id: tenantOf(request).adminId } })
    if (admin === null) throw new ERRORS.Unauthorized('This admin no longer exists')
    return await reply.status(201).send(await app.twoFactor.beginEnrollment(db, admin))
  })

  app.post('/api/account/mfa/confirm', {
    config: self, schema: { ...common, body: MfaCodeBodySchema, response: { 200: RecoveryCodesSchema, ...errorResponses(400, 401, 409) } }
  }, async (request) => await app.twoFactor.confirmEnrollment(tenantOf(request).db, tenantOf(request).adminId, request.body.code))

  app.delete('/api/account/mfa', {
    config: self, schema: { ...common, body: MfaDisableBodySchema, response: { 204: NoContentSchema, ...errorResponses(400, 401, 403, 409) } }
  }, async (request, reply) => {
    const db = tenantOf(request).db
    const admin = await db.admin.findUnique({ where: { id: tenantOf(request).adminId } })
    if (admin === null || !await verifyPassword(admin.passwordHash, request.body.password)) throw new ERRORS.InvalidCurrentPassword()
    await app.twoFactor.disable(db, admin.id, await requiresTwoFactor(db))
    return await reply.status(204).send(null)
  })

  app.get('/api/organization/security', {
    config: { permission: 'security.manage' }, schema: { ...common, response: { 200: SecuritySettingsSchema, ...errorResponses(401, 403) } }
  }, async (request) => ({ requireTwoFactor: await requiresTwoFactor(tenantOf(request).db) }))

  app.put('/api/organization/security', {
    config: { permission: 'security.manage' }, schema: { ...common, body: SecuritySettingsSchema, response: { 200: SecuritySettingsSchema, ...errorResponses(400, 401, 403) } }
  }, async (request) => ({ requireTwoFactor: await setRequiresTwoFactor(tenantOf(request).db, request.body.requireTwoFactor) }))
}

export default accountSecurityRoutes
