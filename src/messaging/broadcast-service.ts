// Broadcasts: the Message and one MessageRecipient per reachable member are written in one
// transaction; the send jobs go to pg-boss after it commits.
import { randomUUID } from 'node:crypto'
import type PgBoss from 'pg-boss'
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'
import type { TenantRecord } from '../tenancy/tenant-directory.js'
import { ERRORS } from '../errors.js'
import { enqueueSend } from './send-queue.js'
import { resolveBody } from './template-service.js'
import { renderTemplate } from './template-render.js'

export interface BroadcastInput {
  text?: string | undefined
  templateId?: string | undefined
  branchIds?: string[] | undefined
  memberIds?: string[] | undefined
  sendAt?: string | Date | undefined
}

export interface BroadcastExtra { createdById?: string, recurringMessageId?: string, occurrenceKey?: string }

const CHUNK = 2000
const SENDABLE = new Set(['TRIALING', 'ACTIVE'])

export function assertCanSend (tenant: Pick<TenantRecord, 'primaryPhoneNumber' | 'subscriptionStatus'>): void {
  if (!SENDABLE.has(tenant.subscriptionStatus)) throw new ERRORS.SubscriptionInactive()
  if (tenant.primaryPhoneNumber === null) throw new ERRORS.NoSendingNumber()
}

/** Members the selection reaches; nobody selected means everyone (contacts excluded). */
async function selectMembers (db: TenantPrismaClient, input: BroadcastInput) {
  const branchIds = input.branchIds ?? []
  const memberIds = input.memberIds ?? []
  const everyone = branchIds.length === 0 && memberIds.length === 0
  return await db.member.findMany({
    where: everyone
      ? { isContact: false }
      : { OR: [...(memberIds.length > 0 ? [{ id: { in: memberIds } }] : []), ...(branchIds.length > 0 ? [{ branches: { some: { branchId: { in: branchIds } } } }] : [])] },
    select: { id: true, firstName: true, lastName: true, phone: true, optedOut: true },
    orderBy: { id: 'asc' }
  })
}

/** Writes the message and its recipients; returns them without enqueueing. */
export async function writeBroadcast (db: TenantPrismaClient, tenant: Pick<TenantRecord, 'name'>, input: BroadcastInput, extra: BroadcastExtra = {}) {
  const body = await resolveBody(db, input)
  const members = await selectMembers(db, input)
  const reachable = members.filter((m) => !m.optedOut)
  const sendAt = input.sendAt === undefined ? undefined : new Date(input.sendAt)
  const scheduled = sendAt !== undefined && sendAt.getTime() > Date.now()
  const recipients = reachable.map((m) => ({
    id: randomUUID(),
    memberId: m.id,
    phone: m.phone,
    body: renderTemplate(body, { firstName: m.firstName, lastName: m.lastName, churchName: tenant.name })
  }))
  const messageId = randomUUID()
  await db.$transaction(async (tx) => {
    await tx.message.create({
      data: {
        id: messageId,
        body,
        templateId: input.templateId ?? null,
        status: recipients.length === 0 ? 'SENT' : scheduled ? 'SCHEDULED' : 'QUEUED',
        sendAt: sendAt ?? null,
        recipientCount: recipients.length,
        excludedCount: members.length - reachable.length,
        createdById: extra.createdById ?? null,
        recurringMessageId: extra.recurringMessageId ?? null,
        occurrenceKey: extra.occurrenceKey ?? null,
        ...(recipients.length === 0 && { completedAt: new Date() })
      }
    })
    for (let i = 0; i < recipients.length; i += CHUNK) {
      await tx.messageRecipient.createMany({ data: recipients.slice(i, i + CHUNK).map((r) => ({ ...r, messageId })) })
    }
  }, { timeout: 60_000, maxWait: 10_000 })
  return {
    id: messageId,
    status: recipients.length === 0 ? 'SENT' : scheduled ? 'SCHEDULED' : 'QUEUED',
    recipientCount: recipients.length,
    excludedCount: members.length - reachable.length,
    recipientIds: recipients.map((r) => r.id),
    startAfter: scheduled ? sendAt : undefined
  }
}

export function createBroadcastService (deps: { boss: PgBoss }) {
  return {
    async create (db: TenantPrismaClient, tenant: TenantRecord, input: BroadcastInput, extra: BroadcastExtra = {}) {
      assertCanSend(tenant)
      if (input.sendAt !== undefined && Number.isNaN(new Date(input.sendAt).getTime())) throw new ERRORS.BadRequest('sendAt is not a date')
      const written = await writeBroadcast(db, tenant, input, extra)
      await enqueueSend(deps.boss, { tenantId: tenant.id, messageId: written.id }, written.recipientIds, written.startAfter)
      return { id: written.id, status: written.status, recipientCount: written.recipientCount, excludedCount: written.excludedCount }
    },

    async cancel (db: TenantPrismaClient, id: string) {
      return await db.$transaction(async (tx) => {
        const message = await tx.message.findUnique({ where: { id }, select: { status: true } })
        if (message === null) throw new ERRORS.NotFound('Message')
        const changed = await tx.message.updateMany({ where: { id, status: 'SCHEDULED' }, data: { status: 'CANCELLED', completedAt: new Date() } })
        if (changed.count === 0) throw new ERRORS.MessageNotCancellable()
        // The queued jobs stay; they find no PENDING recipient to claim and do nothing.
        await tx.messageRecipient.updateMany({ where: { messageId: id, status: { in: ['PENDING', 'DEFERRED'] } }, data: { status: 'SKIPPED', errorCode: 'CANCELLED' } })
        return { id, status: 'CANCELLED' }
      })
    },

    async get (db: TenantPrismaClient, id: string) {
      const message = await db.message.findUnique({ where: { id } })
      if (message === null) throw new ERRORS.NotFound('Message')
      const groups = await db.messageRecipient.groupBy({ by: ['status'], where: { messageId: id }, _count: { _all: true } })
      const counts: Record<string, number> = {}
      for (const g of groups) counts[g.status] = g._count._all
      return { ...view(message), counts }
    },

    async list (db: TenantPrismaClient, query: { limit: number, cursor?: string | undefined }) {
      const rows = await db.message.findMany({
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: query.limit + 1,
        ...(query.cursor !== undefined ? { cursor: { id: query.cursor }, skip: 1 } : {})
      })
      const page = rows.slice(0, query.limit)
      return { items: page.map(view), nextCursor: rows.length > query.limit ? page.at(-1)?.id ?? null : null }
    }
  }
}

function view (m: { id: string, body: string, status: string, sendAt: Date | null, recipientCount: number, excludedCount: number, createdAt: Date, completedAt: Date | null }) {
  return {
    id: m.id,
    body: m.body,
    status: m.status,
    sendAt: m.sendAt?.toISOString() ?? null,
    recipientCount: m.recipientCount,
    excludedCount: m.excludedCount,
    createdAt: m.createdAt.toISOString(),
    completedAt: m.completedAt?.toISOString() ?? null
  }
}

export type BroadcastService = ReturnType<typeof createBroadcastService>
