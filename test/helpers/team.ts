// Team test helpers: a real local SMTP server that keeps what it receives, reading tokens out of mail
// (from SMTP or the local outbox), and building a team through real invitations.
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import type { FastifyInstance } from 'fastify'
import { registerOrganization, TEST_SECRETS } from '../helper.js'
import { until } from './wait.js'

export const PASSWORD = 'correct horse battery staple'
interface Teardown { teardown: (fn: () => unknown) => void }
export interface ReceivedMail { to: string[], raw: string, text: string }

/** Quoted-printable bodies: soft line breaks and =XX escapes undone (enough for our ASCII mail). */
const decode = (raw: string): string => raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))

export async function smtpSink (t: Teardown): Promise<{ url: string, mails: ReceivedMail[], next: (to: string) => Promise<ReceivedMail> }> {
  const mails: ReceivedMail[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData (stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, text: decode(raw) })
        callback()
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise<void>((resolve) => server.close(() => { resolve() })) })
  const port = (server.server.address() as AddressInfo).port
  const taken = new Set<ReceivedMail>()
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async next (to) {
      const find = (): ReceivedMail | undefined => mails.find((m) => !taken.has(m) && m.to.includes(to))
      await until(() => find() !== undefined, { what: `mail to ${to}` })
      const mail = find() as ReceivedMail
      taken.add(mail)
      return mail
    }
  }
}

/** Every token a mail carries ("Invitation token: ..." / "Reset token: ..."), in order. */
export function tokensIn (text: string, kind: 'Invitation' | 'Reset'): string[] {
  return [...text.matchAll(new RegExp(`${kind} token: ([A-Za-z0-9_-]{43})`, 'g'))].map((m) => m[1] as string)
}

/** The newest outbox message to an address (local mode), read through the operator API. */
export async function outboxMail (app: FastifyInstance, to: string): Promise<{ subject: string, text: string }> {
  let found: { subject: string, text: string } | undefined
  await until(async () => {
    const res = await app.inject({ method: 'GET', url: `/api/platform/outbox?to=${encodeURIComponent(to)}&limit=1`, headers: { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` } })
    found = res.json().messages[0]
    return found !== undefined
  }, { what: `outbox mail to ${to}` })
  return found as { subject: string, text: string }
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
export const uniqueEmail = (prefix = 'm'): string => `${prefix}${randomBytes(5).toString('hex')}@example.org`

export interface Organization { tenantId: string, email: string, accessToken: string, refreshToken: string }

export async function signUp (app: FastifyInstance, churchName = 'First Church', extra: Record<string, unknown> = {}): Promise<Organization> {
  if (Object.keys(extra).length === 0) return (await registerOrganization(app, churchName)).json()
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: uniqueEmail('p'), password: PASSWORD, firstName: 'Grace', lastName: 'Hopper', churchName, ...extra } })
  if (res.statusCode !== 201) throw new Error(`sign-up failed: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** Invites an email with a role (local-mode outbox) and accepts; the new admin's token pair. */
export async function addTeammate (app: FastifyInstance, inviterToken: string, role: string, email = uniqueEmail(role.toLowerCase()), password = PASSWORD) {
  const invited = await app.inject({ method: 'POST', url: '/api/invitations', headers: bearer(inviterToken), payload: { email, role } })
  if (invited.statusCode !== 201) throw new Error(`invite failed: ${invited.statusCode} ${invited.body}`)
  const [token] = tokensIn((await outboxMail(app, email)).text, 'Invitation')
  const accepted = await app.inject({ method: 'POST', url: `/api/invitations/${token ?? ''}/accept`, payload: { password, firstName: 'Team', lastName: role } })
  if (accepted.statusCode !== 201) throw new Error(`accept failed: ${accepted.statusCode} ${accepted.body}`)
  return { ...accepted.json() as Organization, email }
}
