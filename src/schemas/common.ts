// Schemas shared by many routes.
import { Type, type Static } from '@sinclair/typebox'

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  message: Type.String(),
  requestId: Type.String()
}, { $id: 'Error', description: 'Every error response has this shape' })
export type ErrorBody = Static<typeof ErrorSchema>

/** Response schemas for the errors any route can answer with. */
export const errorResponses = (...statuses: number[]): Record<number, typeof ErrorSchema> =>
  Object.fromEntries(statuses.map((status) => [status, ErrorSchema]))

/** A 204 answer has no body. */
export const NoContentSchema = Type.Null()

/** `:id` of a tenant's own record (member, branch, template, message, recurring message). */
export const IdParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

export const PageQuerySchema = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 200 }))
})
export type PageQuery = Static<typeof PageQuerySchema>
