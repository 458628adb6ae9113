// The text of the emails we send. Links carry the token after '#', so it never reaches a web server's
// access log; the token is also printed for clients that post it to the API themselves.
import type { MailMessage } from './mailer.js'

export function invitationMail (input: { to: string, organization: string, role: string, token: string, appUrl: string, expiresAt: Date }): MailMessage {
  return {
    to: input.to,
    subject: `You are invited to ${input.organization}`,
    text: [
      `You have been invited to join ${input.organization} as ${input.role.toLowerCase()}.`,
      '',
      `Accept the invitation: ${input.appUrl}/invitations#token=${input.token}`,
      '',
      `Invitation token: ${input.token}`,
      `(POST /api/invitations/<token>/accept). It expires on ${input.expiresAt.toUTCString()} and works once.`,
      '',
      'If you did not expect this, ignore this email.'
    ].join('\n')
  }
}

export function passwordResetMail (input: { to: string, appUrl: string, resets: Array<{ organization: string, token: string }> }): MailMessage {
  const lines = input.resets.flatMap((reset) => [
    `${reset.organization}: ${input.appUrl}/reset-password#token=${reset.token}`,
    `Reset token: ${reset.token}`,
    ''
  ])
  return {
    to: input.to,
    subject: 'Reset your password',
    text: [
      'Someone asked to reset the password of this email address. Choose the organization to reset:',
      '',
      ...lines,
      'Each link works once and expires in one hour (POST /api/auth/password-reset/confirm with the token).',
      'If you did not ask for this, ignore this email: your password stays as it is.'
    ].join('\n')
  }
}
