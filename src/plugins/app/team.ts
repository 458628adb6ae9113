// Team and access services: mail (SMTP or the local outbox), organization slugs, the team,
// invitations, password reset and two-factor.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createMailer, type Mailer } from '../../mail/mailer.js'
import { createSlugs, type Slugs } from '../../auth/slugs.js'
import { createTeamService, type TeamService } from '../../auth/team-service.js'
import { createInvitations, type Invitations } from '../../auth/invitations.js'
import { createPasswordReset, type PasswordReset } from '../../auth/password-reset.js'
import { createTwoFactor, type TwoFactor } from '../../auth/two-factor.js'

declare module 'fastify' {
  interface FastifyInstance {
    mailer: Mailer
    slugs: Slugs
    team: TeamService
    invitations: Invitations
    passwordReset: PasswordReset
    twoFactor: TwoFactor
  }
}

async function teamPlugin (app: FastifyInstance): Promise<void> {
  const { config, registry, directory, pool, log } = app
  const mailer = createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, registry, log })
  const emailHashKey = config.secrets.emailHashKey
  const passwordReset = createPasswordReset({
    registry,
    directory,
    pool,
    mailer,
    emailHashKey,
    appUrl: config.mail.appUrl,
    limits: { perEmail: 5, perIp: 30, windowMs: config.auth.loginWindowMs },
    counters: app.rateLimitCounters,
    log
  })
  app.decorate('mailer', mailer)
  app.decorate('slugs', createSlugs(registry))
  app.decorate('team', createTeamService({ registry }))
  app.decorate('invitations', createInvitations({ registry, directory, pool, mailer, emailHashKey, appUrl: config.mail.appUrl, log }))
  app.decorate('passwordReset', passwordReset)
  // Recovery codes are HMACed with the email hash key under a purpose prefix of their own.
  app.decorate('twoFactor', createTwoFactor({ secretBox: app.secretBox, recoveryKey: emailHashKey, issuer: 'Church SMS' }))
  app.addHook('onClose', async () => {
    await passwordReset.drain()
    mailer.close()
  })
}

export default fp(teamPlugin, { name: 'team', dependencies: ['auth'] })
