// Members of one organization: CRUD with search and cursor pages, phones always E.164.
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'
import { normalizePhone } from '../util/phone.js'
import { ERRORS } from '../errors.js'

export interface MemberInput {
  firstName?: string | undefined
  lastName?: string | undefined
  phone?: string | undefined
  email?: string | null | undefined
  notes?: string | null | undefined
  branchIds?: string[] | undefined
}

const include = { branches: { select: { branchId: true } } } as const

type MemberRow = Awaited<ReturnType<TenantPrismaClient['member']['findFirstOrThrow']>> & { branches: Array<{ branchId: string }> }

export function toMemberView (m: MemberRow) {
  return {
    id: m.id,
    firstName: m.firstName,
    lastName: m.lastName,
    phone: m.phone,
    email: m.email,
    notes: m.notes,
    optedOut: m.optedOut,
    branchIds: m.branches.map((b) => b.branchId),
    createdAt: m.createdAt.toISOString()
  }
}

export function requirePhone (raw: string): string {
  const phone = normalizePhone(raw)
  if (phone === null) throw new ERRORS.InvalidPhone(raw)
  return phone
}

export function createMemberService (db: TenantPrismaClient) {
  return {
    async list (query: { search?: string | undefined, limit: number, cursor?: string | undefined }) {
      const search = query.search?.trim()
      const digits = search?.replace(/\D/g, '') ?? ''
      const where = search === undefined || search === ''
        ? {}
        : {
            OR: [
              { firstName: { contains: search, mode: 'insensitive' as const } },
              { lastName: { contains: search, mode: 'insensitive' as const } },
              ...(digits.length >= 3 ? [{ phone: { contains: digits } }] : [])
            ]
          }
      const rows = await db.member.findMany({
        where,
        include,
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: query.limit + 1,
        ...(query.cursor !== undefined ? { cursor: { id: query.cursor }, skip: 1 } : {})
      })
      const page = rows.slice(0, query.limit)
      return { items: page.map(toMemberView), nextCursor: rows.length > query.limit ? page.at(-1)?.id ?? null : null }
    },

    async get (id: string) {
      const m = await db.member.findUnique({ where: { id }, include })
      if (m === null) throw new ERRORS.NotFound('Member')
      return toMemberView(m)
    },

    async create (input: MemberInput & { firstName: string, phone: string }) {
      const m = await db.member.create({
        data: {
          firstName: input.firstName,
          lastName: input.lastName ?? '',
          phone: requirePhone(input.phone),
          email: input.email ?? null,
          notes: input.notes ?? null,
          branches: { create: (input.branchIds ?? []).map((branchId) => ({ branchId })) }
        },
        include
      })
      return toMemberView(m)
    },

    async update (id: string, input: MemberInput) {
      const m = await db.$transaction(async (tx) => {
        if (input.branchIds !== undefined) {
          await tx.branchMember.deleteMany({ where: { memberId: id } })
          await tx.branchMember.createMany({ data: input.branchIds.map((branchId) => ({ branchId, memberId: id })) })
        }
        return await tx.member.update({
          where: { id },
          data: {
            ...(input.firstName !== undefined && { firstName: input.firstName }),
            ...(input.lastName !== undefined && { lastName: input.lastName }),
            ...(input.phone !== undefined && { phone: requirePhone(input.phone) }),
            ...(input.email !== undefined && { email: input.email }),
            ...(input.notes !== undefined && { notes: input.notes })
          },
          include
        })
      })
      return toMemberView(m)
    },

    async remove (id: string): Promise<void> {
      await db.member.delete({ where: { id } })
    }
  }
}
