// The one gate every outbound path goes through: nobody who opted out is ever sent to.
import type { TenantPrismaClient } from '../../tenancy/tenant-pool.js'
import { ERRORS } from '../../errors.js'

type Db = Pick<TenantPrismaClient, 'member'>

/** Throws MEMBER_OPTED_OUT when the member (by id, or by E.164 phone) has opted out. */
export async function assertCanMessage (db: Db, memberIdOrPhone: string): Promise<void> {
  const where = memberIdOrPhone.startsWith('+') ? { phone: memberIdOrPhone } : { id: memberIdOrPhone }
  const member = await db.member.findUnique({ where, select: { optedOut: true } })
  if (member?.optedOut === true) throw new ERRORS.MemberOptedOut()
}

export interface Addressee { memberId?: string | null, phone: string }

/** Splits recipients into those who may be messaged and those who opted out (by member id or phone). */
export async function filterOptedOut<T extends Addressee> (db: Db, recipients: readonly T[]): Promise<{ allowed: T[], excluded: T[] }> {
  if (recipients.length === 0) return { allowed: [], excluded: [] }
  const ids = [...new Set(recipients.flatMap((r) => (typeof r.memberId === 'string' ? [r.memberId] : [])))]
  const phones = [...new Set(recipients.map((r) => r.phone))]
  const out = await db.member.findMany({
    where: { optedOut: true, OR: [{ id: { in: ids } }, { phone: { in: phones } }] },
    select: { id: true, phone: true }
  })
  const outIds = new Set(out.map((m) => m.id))
  const outPhones = new Set(out.map((m) => m.phone))
  const allowed: T[] = []
  const excluded: T[] = []
  for (const r of recipients) {
    const blocked = (typeof r.memberId === 'string' && outIds.has(r.memberId)) || outPhones.has(r.phone)
    ;(blocked ? excluded : allowed).push(r)
  }
  return { allowed, excluded }
}
