// Members and branches.
import { Type, type Static } from '@sinclair/typebox'

const Id = Type.String({ minLength: 1, maxLength: 64 })
const Name = Type.String({ minLength: 1, maxLength: 100 })
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

export const MemberSchema = Type.Object({
  id: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  phone: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  notes: Type.Union([Type.String(), Type.Null()]),
  optedOut: Type.Boolean(),
  branchIds: Type.Array(Type.String()),
  createdAt: Type.String()
})

export const MemberCreateSchema = Type.Object({
  firstName: Name,
  lastName: Type.Optional(Type.String({ maxLength: 100 })),
  phone: Type.String({ minLength: 1, maxLength: 40 }),
  email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 200 }))),
  notes: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  branchIds: Type.Optional(Type.Array(Id, { maxItems: 200 }))
}, { additionalProperties: false })
export type MemberCreate = Static<typeof MemberCreateSchema>

export const MemberUpdateSchema = Type.Partial(MemberCreateSchema, { additionalProperties: false })

export const MemberListQuerySchema = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 100 })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 64 }))
})

export const MemberPageSchema = Type.Object({ items: Type.Array(MemberSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) })

export const ImportResultSchema = Type.Object({
  created: Type.Integer(),
  updated: Type.Integer(),
  skipped: Type.Integer(),
  errors: Type.Array(Type.Object({ line: Type.Integer(), message: Type.String() }))
})

export const BranchSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  memberCount: Type.Integer(),
  createdAt: Type.String()
})
export const BranchListSchema = Type.Array(BranchSchema)
export const BranchCreateSchema = Type.Object({
  name: Name,
  description: Type.Optional(Nullable(Type.String({ maxLength: 500 })))
}, { additionalProperties: false })
export const BranchUpdateSchema = Type.Partial(BranchCreateSchema, { additionalProperties: false })
export const MemberIdsSchema = Type.Object({ memberIds: Type.Array(Id, { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false })
