// Message templates and previews.
import { Type } from '@sinclair/typebox'

export const TemplateSchema = Type.Object({
  id: Type.String(), name: Type.String(), body: Type.String(), createdAt: Type.String(), updatedAt: Type.String()
})
export const TemplateListSchema = Type.Array(TemplateSchema)
export const TemplateCreateSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  body: Type.String({ minLength: 1, maxLength: 1600 })
}, { additionalProperties: false })
export const TemplateUpdateSchema = Type.Partial(TemplateCreateSchema, { additionalProperties: false })
export const PreviewRequestSchema = Type.Object({
  body: Type.Optional(Type.String({ minLength: 1, maxLength: 1600 })),
  templateId: Type.Optional(Type.String({ maxLength: 64 })),
  memberId: Type.Optional(Type.String({ maxLength: 64 }))
}, { additionalProperties: false })
export const PreviewSchema = Type.Object({
  text: Type.String(),
  encoding: Type.String(),
  segments: Type.Integer(),
  characters: Type.Integer(),
  perSegment: Type.Integer()
})
