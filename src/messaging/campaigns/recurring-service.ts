// Recurring messages: CRUD, and the scheduler that fires due occurrences. Each occurrence fires
// exactly once, with two workers or after a restart: its Message carries the unique occurrenceKey
// `${recurringId}:${occurrenceISO}` and nextRunAt advances in the same transaction, under a row lock.
import type PgBoss from 'pg-boss'
import type { Logger } from 'pino'
import type { RegistryClient } from '../../registry/registry-client.js'
import type { TenantDirectory, TenantRecord } from '../../registry/tenant-directory.js'
import type { TenantPool, TenantPrismaClient } from '../../tenancy/tenant-pool.js'
import { ERRORS } from '../../errors.js'
import { canSend } from '../../billing/subscription-guard.js'
import { enqueueBroadcast, insertBroadcast, prepareBroadcast, type PreparedBroadcast } from './broadcast-service.js'
import { nextOccurrence, validateSchedule } from './recurrence.js'
import { assertKnownFields } from '../content/template-service.js'

export interface RecurringInput {
  name?: string | undefined
  schedule?: string | undefined
  timezone?: string | undefined
  templateId?: string | null | undefined
  text?: string | null | undefined
  branchIds?: string[] | undefined
  memberIds?: string[] | undefined
  active?: boolean | undefined
}

type Row = Awaited<ReturnType<TenantPrismaClient['recurringMessage']['findFirstOrThrow']>>
const view = (r: Row) => ({
  id: r.id,
  name: r.name,
  schedule: r.schedule,
  timezone: r.timezone,
  templateId: r.templateId,
  text: r.body,
  branchIds: r.branchIds,
  memberIds: r.memberIds,
  active: r.active,
  nextRunAt: r.nextRunAt?.toISOString() ?? null,
  lastRunAt: r.lastRunAt?.toISOString() ?? null
})

export function createRecurringService (db: TenantPrismaClient, defaultTimezone: string) {
  async function get (id: string): Promise<Row> {
    const r = await db.recurringMessage.findUnique({ where: { id } })
    if (r === null) throw new ERRORS.NotFound('Recurring message')
    return r
  }
  function check (schedule: string, timezone: string, text: string | null | undefined, templateId: string | null | undefined): Date | null {
    const problem = validateSchedule(schedule, timezone)
    if (problem !== null) throw new ERRORS.InvalidSchedule(problem)
    if ((text ?? null) === null && (templateId ?? null) === null) throw new ERRORS.BadRequest('Give text or templateId')
    if (typeof text === 'string') assertKnownFields(text)
    return nextOccurrence(schedule, timezone, new Date())
  }
  return {
    async list () { return (await db.recurringMessage.findMany({ orderBy: { createdAt: 'asc' } })).map(view) },
    async get (id: string) { return view(await get(id)) },
    async create (input: RecurringInput & { name: string, schedule: string }) {
      const timezone = input.timezone ?? defaultTimezone
      const nextRunAt = check(input.schedule, timezone, input.text, input.templateId)
      return view(await db.recurringMessage.create({
        data: {
          name: input.name,
          schedule: input.schedule,
          timezone,
          templateId: input.templateId ?? null,
          body: input.text ?? null,
          branchIds: input.branchIds ?? [],
          memberIds: input.memberIds ?? [],
          active: input.active ?? true,
          nextRunAt
        }
      }))
    },
    async update (id: string, input: RecurringInput) {
      const current = await get(id)
      const schedule = input.schedule ?? current.schedule
      const timezone = input.timezone ?? current.timezone
      const text = input.text !== undefined ? input.text : current.body
      const templateId = input.templateId !== undefined ? input.templateId : current.templateId
      const nextRunAt = check(schedule, timezone, text, templateId)
      return view(await db.recurringMessage.update({
        where: { id },
        data: {
          schedule,
          timezone,
          body: text,
          templateId,
          ...(input.name !== undefined && { name: input.name }),
          ...(input.branchIds !== undefined && { branchIds: input.branchIds }),
          ...(input.memberIds !== undefined && { memberIds: input.memberIds }),
          ...(input.active !== undefined && { active: input.active }),
          ...((input.schedule !== undefined || input.timezone !== undefined) && { nextRunAt })
        }
      }))
    },
    async remove (id: string) { await db.recurringMessage.delete({ where: { id } }) }
  }
}

/**
 * Fires every due recurring message of one tenant; returns the messages created. An occurrence that
 * cannot be sent (lapsed subscription, no number) is skipped, not held: nextRunAt still advances, so
 * a tenant that pays again does not get a burst of stale messages.
 */
export async function fireDue (db: TenantPrismaClient, tenant: TenantRecord, now: Date, log: Pick<Logger, 'info'>): Promise<PreparedBroadcast[]> {
  const due = await db.recurringMessage.findMany({ where: { active: true, nextRunAt: { lte: now } }, select: { id: true } })
  const fired: PreparedBroadcast[] = []
  for (const { id } of due) {
    const prepared = await db.$transaction(async (tx) => {
      // SKIP LOCKED: another worker firing this one right now owns it; it will advance nextRunAt.
      const [r] = await tx.$queryRaw<Row[]>`
        SELECT * FROM "RecurringMessage" WHERE id = ${id} AND active AND "nextRunAt" <= ${now} FOR UPDATE SKIP LOCKED`
      if (r?.nextRunAt == null) return undefined
      // After downtime only the latest missed occurrence fires, then the schedule moves past now.
      const next = nextOccurrence(r.schedule, r.timezone, now)
      await tx.recurringMessage.update({ where: { id }, data: { nextRunAt: next, lastRunAt: now } })
      const reason = !canSend(tenant, now) ? 'subscription inactive' : tenant.primaryPhoneNumber === null ? 'no sending number' : null
      if (reason !== null) {
        log.info({ tenantId: tenant.id, recurringMessageId: r.id, occurrence: r.nextRunAt.toISOString(), subscriptionStatus: tenant.subscriptionStatus, reason }, 'recurring occurrence skipped')
        return undefined
      }
      const p = await prepareBroadcast(tx, tenant, {
        text: r.body ?? undefined, templateId: r.templateId ?? undefined, branchIds: r.branchIds, memberIds: r.memberIds
      }, { recurringMessageId: r.id, occurrenceKey: `${r.id}:${r.nextRunAt.toISOString()}` })
      if (p.recipientCount === 0 && r.branchIds.length + r.memberIds.length === 0) return undefined
      await insertBroadcast(tx, p)
      return p
    }, { timeout: 60_000, maxWait: 10_000 })
    if (prepared !== undefined) fired.push(prepared)
  }
  return fired
}

export function createRecurringScheduler (deps: {
  registry: RegistryClient
  directory: Pick<TenantDirectory, 'get'>
  pool: Pick<TenantPool, 'withTenant'>
  boss: PgBoss
  log: Pick<Logger, 'info' | 'warn'>
  now: () => Date
}) {
  return {
    async tick (): Promise<number> {
      const tenants = await deps.registry.tenant.findMany({ where: { status: 'ACTIVE' }, select: { id: true } })
      let count = 0
      for (const { id } of tenants) {
        try {
          const tenant = await deps.directory.get(id)
          const fired = await deps.pool.withTenant(id, async (db) => await fireDue(db, tenant, deps.now(), deps.log))
          for (const p of fired) await enqueueBroadcast(deps.boss, id, p)
          count += fired.length
        } catch (error) {
          deps.log.warn({ err: error, tenantId: id }, 'recurring messages could not be fired')
        }
      }
      return count
    }
  }
}
