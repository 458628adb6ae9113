// The two-way inbox of one tenant: threads by latest activity, their messages, replies and read marks.
import type { TenantPrismaClient } from '../../tenancy/tenant-pool.js'
import { ERRORS } from '../../errors.js'
import { assertCanSend, type SubscriptionState } from '../../billing/subscription-guard.js'
import { assertCanMessage } from '../inbound/consent.js'
import type { TelnyxSender } from '../telnyx/sender.js'

type Db = TenantPrismaClient

export interface PageInput { limit: number, cursor?: string | undefined }

// Cursors are opaque to clients: the sort key (time, id) of the last row of the previous page.
function encodeCursor (at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url')
}

function decodeCursor (cursor: string | undefined): { at: Date, id: string } | undefined {
  if (cursor === undefined) return undefined
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|')
  const at = new Date(iso ?? '')
  if (id === undefined || id === '' || Number.isNaN(at.getTime())) throw new ERRORS.BadRequest('Invalid cursor')
  return { at, id }
}

const PREVIEW_LENGTH = 160

export function createConversationService (deps: { sender: Pick<TelnyxSender, 'send'> }) {
  async function list (db: Db, page: PageInput) {
    const after = decodeCursor(page.cursor)
    const rows = await db.conversation.findMany({
      where: after === undefined ? {} : { OR: [{ lastMessageAt: { lt: after.at } }, { lastMessageAt: after.at, id: { lt: after.id } }] },
      orderBy: [{ lastMessageAt: 'desc' }, { id: 'desc' }],
      take: page.limit + 1,
      include: { member: { select: { id: true, firstName: true, lastName: true, phone: true, isContact: true, optedOut: true } } }
    })
    const items = rows.slice(0, page.limit)
    const last = items.at(-1)
    return { conversations: items, nextCursor: rows.length > page.limit && last !== undefined ? encodeCursor(last.lastMessageAt, last.id) : null }
  }

  async function find (db: Db, id: string) {
    const conversation = await db.conversation.findUnique({ where: { id }, include: { member: true } })
    if (conversation === null) throw new ERRORS.NotFound('Conversation')
    return conversation
  }

  async function messages (db: Db, conversationId: string, page: PageInput) {
    await find(db, conversationId)
    const after = decodeCursor(page.cursor)
    const rows = await db.conversationMessage.findMany({
      where: {
        conversationId,
        ...(after === undefined ? {} : { OR: [{ createdAt: { lt: after.at } }, { createdAt: after.at, id: { lt: after.id } }] })
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit + 1
    })
    const items = rows.slice(0, page.limit)
    const last = items.at(-1)
    return { messages: items, nextCursor: rows.length > page.limit && last !== undefined ? encodeCursor(last.createdAt, last.id) : null }
  }

  /** Sends `text` to the member from the tenant's primary number and records it. */
  async function reply (db: Db, tenant: SubscriptionState & { primaryPhoneNumber: string | null }, conversationId: string, text: string) {
    assertCanSend(tenant)
    const conversation = await find(db, conversationId)
    await assertCanMessage(db, conversation.memberId)
    const from = tenant.primaryPhoneNumber
    if (from === null) throw new ERRORS.NoSendingNumber()
    let providerMessageId: string
    try {
      providerMessageId = (await deps.sender.send({ from, to: conversation.member.phone, text })).providerMessageId
    } catch (error) {
      const failure = new ERRORS.SmsSendFailed((error as Error).message)
      failure.cause = error
      throw failure
    }
    const now = new Date()
    const [message] = await db.$transaction([
      db.conversationMessage.create({
        data: { conversationId, direction: 'OUTBOUND', body: text, providerMessageId, status: 'sent', fromNumber: from, toNumber: conversation.member.phone, createdAt: now }
      }),
      db.conversation.update({ where: { id: conversationId }, data: { lastMessageAt: now, lastMessagePreview: text.slice(0, PREVIEW_LENGTH) } })
    ])
    return message
  }

  async function markRead (db: Db, conversationId: string) {
    await find(db, conversationId)
    const now = new Date()
    const [, conversation] = await db.$transaction([
      db.conversationMessage.updateMany({ where: { conversationId, direction: 'INBOUND', readAt: null }, data: { readAt: now } }),
      db.conversation.update({ where: { id: conversationId }, data: { unreadCount: 0 } })
    ])
    return conversation
  }

  return { list, messages, reply, markRead }
}

export type ConversationService = ReturnType<typeof createConversationService>
