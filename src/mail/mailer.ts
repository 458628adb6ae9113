// Outgoing email. With SMTP_URL it goes out over SMTP (nodemailer); without it (local mode) each
// message is recorded in the registry's MailOutbox for the operator API. Message bodies carry
// one-time tokens, so they are never logged: only the recipient's domain and the subject are.
import nodemailer from 'nodemailer'
import type { FastifyBaseLogger } from 'fastify'
import type { RegistryClient } from '../registry/registry-client.js'

export interface MailMessage { to: string, subject: string, text: string }
export interface OutboxEntry extends MailMessage { id: string, createdAt: Date }

export interface Mailer {
  mode: 'smtp' | 'outbox'
  send: (message: MailMessage) => Promise<void>
  /** The newest outbox entries, optionally for one recipient (local mode; empty with SMTP). */
  outbox: (filter: { to?: string, limit: number }) => Promise<OutboxEntry[]>
  /** Removes the outbox entries to the recipients `isRecipient` picks (a deleted organization's people); 0 with SMTP, whose mail has left. */
  forget: (isRecipient: (address: string) => boolean) => Promise<number>
  close: () => void
}

export interface MailerOptions {
  smtpUrl: string | undefined
  from: string
  registry: Pick<RegistryClient, 'mailOutbox'>
  log: FastifyBaseLogger
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf('@') + 1)

export function createMailer (options: MailerOptions): Mailer {
  const { smtpUrl, from, registry, log } = options
  const outbox = async (filter: { to?: string, limit: number }): Promise<OutboxEntry[]> => {
    const rows = await registry.mailOutbox.findMany({ where: filter.to === undefined ? {} : { to: filter.to.trim().toLowerCase() }, orderBy: { id: 'desc' }, take: filter.limit })
    return rows.map((row) => ({ ...row, id: row.id.toString() }))
  }
  if (smtpUrl === undefined) {
    return {
      mode: 'outbox',
      async send (message) {
        await registry.mailOutbox.create({ data: { to: message.to, subject: message.subject, text: message.text } })
        log.info({ toDomain: domainOf(message.to), subject: message.subject }, 'mail recorded in the outbox (local mode)')
      },
      outbox,
      async forget (isRecipient) {
        const recipients = (await registry.mailOutbox.findMany({ distinct: ['to'], select: { to: true } })).map((r) => r.to).filter(isRecipient)
        if (recipients.length === 0) return 0
        return (await registry.mailOutbox.deleteMany({ where: { to: { in: recipients } } })).count
      },
      close () {}
    }
  }
  // A mail server that hangs must not hold a request for minutes (nodemailer's defaults).
  const transport = nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 })
  return {
    mode: 'smtp',
    async send (message) {
      await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text })
      log.info({ toDomain: domainOf(message.to), subject: message.subject }, 'mail sent')
    },
    outbox,
    forget: async () => 0,
    close () { transport.close() }
  }
}
