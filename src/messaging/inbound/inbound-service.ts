// Inbound messages (verified and parsed by the Telnyx pipeline): routed by the number they were sent to,
// stored once in that tenant's database (member, conversation, message, consent) atomically, and
// consent keywords answered after the commit. The provider's unique message id is what makes a retried
// or duplicated delivery store nothing: ProcessedWebhookEvent only records the events that stored one.
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { TenantPool, TenantPrismaClient, TenantSql } from '../../tenancy/tenant-pool.js'
import type { TenantDirectory } from '../../registry/tenant-directory.js'
import { classifyKeyword, consentReply, type ConsentKeyword } from './consent-keywords.js'
import type { RouteCache } from '../../registry/phone-routes.js'
import type { TelnyxSender } from '../telnyx/sender.js'
import type { MessageReceivedEvent } from '../telnyx/webhook.js'

/** What became of an inbound message, and of the consent reply it asked for (if any). */
export interface InboundResult { outcome: 'stored' | 'duplicate' | 'unrouted', reply?: 'sent' | 'failed' }

type Tx = Parameters<Parameters<TenantPrismaClient['$transaction']>[0]>[0]

interface PendingReply { kind: ConsentKeyword['kind'], conversationId: string, memberPhone: string, fromNumber: string }

const PREVIEW_LENGTH = 160

// $1 event id, $2 event type, $3 new member id, $4 sender, $5 new conversation id, $6 received at (ISO),
// $7 preview, $8 new message id, $9 text, $10 media (JSON), $11 provider message id, $12 our number.
// The member is looked up before it is inserted: an upsert that "updates" an existing row to itself
// still writes a new row version and its index entries for every message. The event is recorded from
// the message insert, so it is recorded exactly when (and only when) its message is.
// Timestamps go in as ISO text and are stored as UTC, as Prisma stores TIMESTAMP(3) columns.
const STORE_FAST = {
  name: 'inbound-store-fast-v2',
  text: `
    WITH found AS (
      SELECT id FROM "Member" WHERE phone = $4
    ), added AS (
      INSERT INTO "Member" (id, "firstName", "lastName", phone, "isContact", "updatedAt")
      SELECT $3, '', '', $4, true, now() WHERE NOT EXISTS (SELECT 1 FROM found)
      ON CONFLICT (phone) DO NOTHING RETURNING id
    ), m AS (
      SELECT id FROM found UNION ALL SELECT id FROM added
    ), existing AS (
      SELECT c.id FROM "Conversation" c JOIN m ON c."memberId" = m.id
    ), created AS (
      INSERT INTO "Conversation" (id, "memberId", "lastMessageAt", "lastMessagePreview", "unreadCount", "updatedAt")
      SELECT $5, m.id, $6::timestamptz AT TIME ZONE 'UTC', $7, 1, now() FROM m WHERE NOT EXISTS (SELECT 1 FROM existing)
      ON CONFLICT ("memberId") DO NOTHING RETURNING id
    ), conv AS (
      SELECT id, false AS fresh FROM existing UNION ALL SELECT id, true AS fresh FROM created
    ), msg AS (
      INSERT INTO "ConversationMessage" (id, "conversationId", direction, body, media, "providerMessageId", status, "fromNumber", "toNumber", "createdAt")
      SELECT $8, conv.id, 'INBOUND'::"Direction", $9, $10::jsonb, $11, 'received', $4, $12, $6::timestamptz AT TIME ZONE 'UTC' FROM conv
      ON CONFLICT ("providerMessageId") DO NOTHING RETURNING id, "conversationId"
    ), ev AS (
      INSERT INTO "ProcessedWebhookEvent" (id, type) SELECT $1, $2 FROM msg
      ON CONFLICT (id) DO NOTHING RETURNING id
    ), bumped AS (
      UPDATE "Conversation" c SET
        "unreadCount" = c."unreadCount" + 1,
        "lastMessagePreview" = CASE WHEN c."lastMessageAt" <= $6::timestamptz AT TIME ZONE 'UTC' OR c."lastMessagePreview" IS NULL THEN $7 ELSE c."lastMessagePreview" END,
        "lastMessageAt" = GREATEST(c."lastMessageAt", $6::timestamptz AT TIME ZONE 'UTC'),
        "updatedAt" = now()
      FROM msg JOIN conv ON conv.id = msg."conversationId"
      WHERE c.id = msg."conversationId" AND NOT conv.fresh
      RETURNING c.id
    )
    SELECT (SELECT count(*) FROM conv)::int AS conversations, (SELECT count(*) FROM msg)::int AS inserted,
      (SELECT count(*) FROM ev)::int AS recorded, (SELECT count(*) FROM bumped)::int AS bumped`
}

const utc = (d: Date): string => d.toISOString()

export function createInboundService (deps: {
  routes: Pick<RouteCache, 'tenantFor'>
  pool: Pick<TenantPool, 'withTenant'>
  directory: Pick<TenantDirectory, 'get'>
  sender: Pick<TelnyxSender, 'send'>
  log: FastifyBaseLogger
}) {
  const { routes, pool, directory, sender, log } = deps

  async function receive (event: MessageReceivedEvent): Promise<InboundResult> {
    const p = event.data.payload
    const to = p.to[0]?.phone_number ?? ''
    const tenantId = await routes.tenantFor(to)
    if (tenantId === null) {
      log.warn({ eventId: event.data.id, to }, 'inbound message for a number no organization owns')
      return { outcome: 'unrouted' }
    }
    return await pool.withTenant(tenantId, async (db, lease) => {
      // Plain texts (the bulk) take one statement; consent keywords and the rare race the fast path
      // cannot settle take the transaction.
      const plain = classifyKeyword(event.data.payload.text) === null
      const fast = plain ? await storeFast(lease.sql, event, to) : 'fallback'
      const result = fast !== 'fallback' ? fast : await db.$transaction(async (tx) => await store(tx, event, to))
      if (result === 'duplicate' || result === 'stored') return { outcome: result }
      return { outcome: 'stored', reply: await reply(db, tenantId, result) }
    })
  }

  /**
   * One statement (so atomic without a transaction): member, conversation, message, its event record
   * and the counters, which move only when the message row is inserted. 'fallback' when the member or
   * conversation was created concurrently by a statement this one cannot see: nothing was stored.
   * Plain pg with a named statement: each connection parses and plans it once, and Prisma's per-query
   * work is skipped; together that halved the cost of this, the busiest statement of the product.
   */
  async function storeFast (sql: TenantSql, event: MessageReceivedEvent, to: string): Promise<'duplicate' | 'stored' | 'fallback'> {
    const p = event.data.payload
    const { rows: [row] } = await sql.query<{ conversations: number, inserted: number }>({
      name: STORE_FAST.name,
      text: STORE_FAST.text,
      values: [event.data.id, event.data.event_type, randomUUID(), p.from.phone_number, randomUUID(), utc(receivedAtOf(event)),
        previewOf(event), randomUUID(), p.text, mediaJson(event), p.id, to]
    })
    if (row === undefined || row.conversations === 0) return 'fallback'
    return row.inserted === 1 ? 'stored' : 'duplicate'
  }

  async function store (tx: Tx, event: MessageReceivedEvent, to: string): Promise<'duplicate' | 'stored' | PendingReply> {
    const p = event.data.payload
    const from = p.from.phone_number
    const receivedAt = receivedAtOf(event)
    const [member] = await tx.$queryRaw<Array<{ id: string }>>`
      INSERT INTO "Member" (id, "firstName", "lastName", phone, "isContact", "updatedAt")
      VALUES (${randomUUID()}, '', '', ${from}, true, now())
      ON CONFLICT (phone) DO UPDATE SET phone = EXCLUDED.phone RETURNING id`
    if (member === undefined) throw new Error('member upsert returned nothing')
    const [conversation] = await tx.$queryRaw<Array<{ id: string }>>`
      INSERT INTO "Conversation" (id, "memberId", "lastMessageAt", "unreadCount", "updatedAt")
      VALUES (${randomUUID()}, ${member.id}, ${utc(receivedAt)}::timestamptz AT TIME ZONE 'UTC', 0, now())
      ON CONFLICT ("memberId") DO UPDATE SET "memberId" = EXCLUDED."memberId" RETURNING id`
    if (conversation === undefined) throw new Error('conversation upsert returned nothing')
    const media = mediaJson(event)
    // The unique provider id, not a prior read, makes retries and concurrent duplicates store once.
    const inserted = await tx.$queryRaw<Array<{ id: string }>>`
      INSERT INTO "ConversationMessage" (id, "conversationId", direction, body, media, "providerMessageId", status, "fromNumber", "toNumber", "createdAt")
      VALUES (${randomUUID()}, ${conversation.id}, 'INBOUND'::"Direction", ${p.text}, ${media}::jsonb, ${p.id}, 'received', ${from}, ${to},
        ${utc(receivedAt)}::timestamptz AT TIME ZONE 'UTC')
      ON CONFLICT ("providerMessageId") DO NOTHING RETURNING id`
    if (inserted.length === 0) return 'duplicate'
    await tx.$executeRaw`
      INSERT INTO "ProcessedWebhookEvent" (id, type) VALUES (${event.data.id}, ${event.data.event_type}) ON CONFLICT (id) DO NOTHING`
    const preview = previewOf(event)
    // Telnyx may deliver out of order: an older message counts as unread but does not become the preview.
    await tx.$executeRaw`
      UPDATE "Conversation" SET
        "unreadCount" = "unreadCount" + 1,
        "lastMessagePreview" = CASE WHEN "lastMessageAt" <= ${utc(receivedAt)}::timestamptz AT TIME ZONE 'UTC' OR "lastMessagePreview" IS NULL THEN ${preview} ELSE "lastMessagePreview" END,
        "lastMessageAt" = GREATEST("lastMessageAt", ${utc(receivedAt)}::timestamptz AT TIME ZONE 'UTC'),
        "updatedAt" = now()
      WHERE id = ${conversation.id}`
    const keyword = classifyKeyword(p.text)
    if (keyword === null) return 'stored'
    const changed = await applyConsent(tx, member.id, keyword, event)
    // Telnyx answered the keyword itself (autoresponse_type set): record, never answer twice.
    const telnyxAnswered = typeof p.autoresponse_type === 'string' && p.autoresponse_type !== ''
    if (!changed || telnyxAnswered) return 'stored'
    return { kind: keyword.kind, conversationId: conversation.id, memberPhone: from, fromNumber: to }
  }

  /** Records a consent keyword; false when it changes nothing (a second STOP), so nothing is answered. */
  async function applyConsent (tx: Tx, memberId: string, keyword: ConsentKeyword, event: MessageReceivedEvent): Promise<boolean> {
    if (keyword.kind === 'OPT_OUT') {
      const rows = await tx.$executeRaw`
        UPDATE "Member" SET "optedOut" = true, "optedOutAt" = now(), "updatedAt" = now() WHERE id = ${memberId} AND NOT "optedOut"`
      if (rows === 0) return false
    } else if (keyword.kind === 'OPT_IN') {
      const rows = await tx.$executeRaw`
        UPDATE "Member" SET "optedOut" = false, "optedOutAt" = NULL, "updatedAt" = now() WHERE id = ${memberId} AND "optedOut"`
      if (rows === 0) return false
    }
    const p = event.data.payload
    const logged = await tx.$executeRaw`
      INSERT INTO "ConsentLog" (id, "memberId", event, source, keyword, "rawText", "providerMessageId", "providerEventId")
      VALUES (${randomUUID()}, ${memberId}, ${keyword.kind}::"ConsentEvent", 'sms', ${keyword.keyword}, ${p.text}, ${p.id}, ${event.data.id})
      ON CONFLICT ("providerMessageId") DO NOTHING`
    return logged > 0
  }

  // Runs after the commit: a failed send is logged and recorded, the inbound message stays stored.
  async function reply (db: TenantPrismaClient, tenantId: string, pending: PendingReply): Promise<'sent' | 'failed'> {
    const tenant = await directory.get(tenantId)
    const text = consentReply(pending.kind, tenant.name, pending.fromNumber)
    let providerMessageId: string | null = null
    let errorCode: string | null = null
    try {
      providerMessageId = (await sender.send({ from: pending.fromNumber, to: pending.memberPhone, text })).providerMessageId
    } catch (error) {
      errorCode = (error as { providerCode?: string }).providerCode ?? 'SEND_FAILED'
      log.error({ err: error, tenantId }, 'consent reply could not be sent')
    }
    const now = new Date()
    await db.$transaction([
      db.conversationMessage.create({
        data: {
          conversationId: pending.conversationId,
          direction: 'OUTBOUND',
          body: text,
          providerMessageId,
          status: providerMessageId === null ? 'failed' : 'sent',
          errorCode,
          fromNumber: pending.fromNumber,
          toNumber: pending.memberPhone,
          createdAt: now
        }
      }),
      db.conversation.update({ where: { id: pending.conversationId }, data: { lastMessageAt: now, lastMessagePreview: text.slice(0, PREVIEW_LENGTH) } })
    ])
    return providerMessageId === null ? 'failed' : 'sent'
  }

  return { receive }
}

function receivedAtOf (event: MessageReceivedEvent): Date {
  return parseDate(event.data.payload.received_at) ?? parseDate(event.data.occurred_at) ?? new Date()
}

function mediaJson (event: MessageReceivedEvent): string {
  return JSON.stringify(event.data.payload.media.map((m) => ({ url: m.url, contentType: m.content_type })))
}

function previewOf (event: MessageReceivedEvent): string {
  const p = event.data.payload
  return (p.text !== '' ? p.text : p.media.length > 0 ? '[media]' : '').slice(0, PREVIEW_LENGTH)
}

function parseDate (value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? undefined : d
}

export type InboundService = ReturnType<typeof createInboundService>
