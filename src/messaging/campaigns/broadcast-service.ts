// Broadcasts: the Message and one MessageRecipient per reachable member are written in one
// transaction; the send jobs go to pg-boss after it commits.
import { randomUUID } from 'node:crypto'
import type PgBoss from 'pg-boss'
import type { TenantPrismaClient } from '../../tenancy/tenant-pool.js'
import type { TenantRecord } from '../../registry/tenant-directory.js'
import type { Prisma } from '../../generated/tenant/client.js'
import { ERRORS } from '../../errors.js'
import { assertCanSend } from '../../billing/subscription-guard.js'
import { enqueueSend } from '../sending/send-queue.js'
import { resolveBody } from '../content/template-service.js'
import { renderTemplate } from '../content/template-render.js'

export interface BroadcastInput {
  text?: string | undefined
  templateId?: string | undefined
  branchIds?: string[] | undefined
  memberIds?: string[] | undefined
  sendAt?: string | Date | undefined
}

export interface BroadcastExtra { createdById?: string, recurringMessageId?: string, occurrenceKey?: string }

const CHUNK = 5000

type TenantTx = Prisma.TransactionClient

/** A lapsed subscription (402) is reported before a missing number (409). */
export function assertCanBroadcast (tenant: Pick<TenantRecord, 'primaryPhoneNumber' | 'subscriptionStatus' | 'trialEndsAt' | 'status'>): void {
  assertCanSend(tenant)
  if (tenant.primaryPhoneNumber === null) throw new ERRORS.NoSendingNumber()
}

/** Members the selection reaches; nobody selected means everyone (contacts excluded). */
async function selectMembers (db: TenantTx, input: BroadcastInput) {
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

export type PreparedBroadcast = Awaited<ReturnType<typeof prepareBroadcast>>

/** Reads what a broadcast needs (body, members) and merges each recipient's text. */
export async function prepareBroadcast (db: TenantTx, tenant: Pick<TenantRecord, 'name'>, input: BroadcastInput, extra: BroadcastExtra = {}) {
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
  const status: 'SENT' | 'SCHEDULED' | 'QUEUED' = recipients.length === 0 ? 'SENT' : scheduled ? 'SCHEDULED' : 'QUEUED'
  return {
    id: randomUUID(),
    body,
    templateId: input.templateId ?? null,
    status,
    sendAt: sendAt ?? null,
    startAfter: scheduled ? sendAt : undefined,
    recipients,
    recipientCount: recipients.length,
    excludedCount: members.length - reachable.length,
    extra
  }
}

/** Writes the message and its recipients with `tx`, which the caller runs as one transaction. */
export async function insertBroadcast (tx: TenantTx, p: PreparedBroadcast): Promise<void> {
  await tx.message.create({
    data: {
      id: p.id,
      body: p.body,
      templateId: p.templateId,
      status: p.status,
      sendAt: p.sendAt,
      recipientCount: p.recipientCount,
      excludedCount: p.excludedCount,
      createdById: p.extra.createdById ?? null,
      recurringMessageId: p.extra.recurringMessageId ?? null,
      occurrenceKey: p.extra.occurrenceKey ?? null,
      ...(p.status === 'SENT' && { completedAt: new Date() })
    }
  })
  // One array-bound INSERT per chunk: Prisma's createMany spends seconds building 10,000-row statements.
  for (let i = 0; i < p.recipients.length; i += CHUNK) {
    const part = p.recipients.slice(i, i + CHUNK)
    await tx.$executeRaw`
      INSERT INTO "MessageRecipient" (id, "messageId", "memberId", phone, body, "updatedAt")
      SELECT r.id, ${p.id}, r.member, r.phone, r.body, now()
      FROM unnest(${part.map((r) => r.id)}::text[], ${part.map((r) => r.memberId)}::text[],
                  ${part.map((r) => r.phone)}::text[], ${part.map((r) => r.body)}::text[]) AS r(id, member, phone, body)`
  }
}

export async function enqueueBroadcast (boss: PgBoss, tenantId: string, p: PreparedBroadcast): Promise<void> {
  await enqueueSend(boss, { tenantId, messageId: p.id }, p.recipients.map((r) => r.id), p.startAfter)
}

export function createBroadcastService (deps: { boss: PgBoss }) {
  return {
    async create (db: TenantPrismaClient, tenant: TenantRecord, input: BroadcastInput, extra: BroadcastExtra = {}) {
      assertCanBroadcast(tenant)
      if (input.sendAt !== undefined && Number.isNaN(new Date(input.sendAt).getTime())) throw new ERRORS.BadRequest('sendAt is not a date')
      const prepared = await prepareBroadcast(db, tenant, input, extra)
      await db.$transaction(async (tx) => { await insertBroadcast(tx, prepared) }, { timeout: 60_000, maxWait: 10_000 })
      await enqueueBroadcast(deps.boss, tenant.id, prepared)
      return { id: prepared.id, status: prepared.status, recipientCount: prepared.recipientCount, excludedCount: prepared.excludedCount }
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
