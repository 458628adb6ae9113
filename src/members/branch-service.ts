// Branches (groups) and their membership; a member may belong to several branches.
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'
import { ERRORS } from '../errors.js'

export function createBranchService (db: TenantPrismaClient) {
  const view = (b: { id: string, name: string, description: string | null, createdAt: Date, _count: { members: number } }) =>
    ({ id: b.id, name: b.name, description: b.description, memberCount: b._count.members, createdAt: b.createdAt.toISOString() })
  const count = { _count: { select: { members: true } } } as const

  async function exists (id: string): Promise<void> {
    if (await db.branch.findUnique({ where: { id }, select: { id: true } }) === null) throw new ERRORS.NotFound('Branch')
  }

  return {
    async list () {
      return (await db.branch.findMany({ include: count, orderBy: { name: 'asc' } })).map(view)
    },
    async get (id: string) {
      const b = await db.branch.findUnique({ where: { id }, include: count })
      if (b === null) throw new ERRORS.NotFound('Branch')
      return view(b)
    },
    async create (input: { name: string, description?: string | null | undefined }) {
      return view(await db.branch.create({ data: { name: input.name, description: input.description ?? null }, include: count }))
    },
    async update (id: string, input: { name?: string | undefined, description?: string | null | undefined }) {
      return view(await db.branch.update({ where: { id }, data: input, include: count }))
    },
    async remove (id: string): Promise<void> {
      await db.branch.delete({ where: { id } })
    },
    async addMembers (id: string, memberIds: string[]) {
      await exists(id)
      const found = await db.member.count({ where: { id: { in: memberIds } } })
      if (found !== new Set(memberIds).size) throw new ERRORS.BadRequest('Some members do not exist')
      await db.branchMember.createMany({ data: memberIds.map((memberId) => ({ branchId: id, memberId })), skipDuplicates: true })
      return await this.get(id)
    },
    async removeMembers (id: string, memberIds: string[]) {
      await exists(id)
      await db.branchMember.deleteMany({ where: { branchId: id, memberId: { in: memberIds } } })
      return await this.get(id)
    }
  }
}
