// Templates with merge fields: unknown fields are refused when saved; previews show the merged text
// and what it costs in segments.
import type { TenantPrismaClient } from '../../tenancy/tenant-pool.js'
import type { Prisma } from '../../generated/tenant/client.js'
import { ERRORS } from '../../errors.js'
import { countSegments } from './segments.js'
import { findUnknownFields, renderTemplate } from './template-render.js'

export function assertKnownFields (body: string): void {
  const unknown = findUnknownFields(body)
  if (unknown.length > 0) {
    const error = new ERRORS.UnknownMergeFields(unknown.join(', '))
    Object.assign(error, { details: { fields: unknown } })
    throw error
  }
}

/** The body to send: the given text, or the template's. */
export async function resolveBody (db: Prisma.TransactionClient, input: { text?: string | undefined, templateId?: string | undefined }): Promise<string> {
  if (input.templateId !== undefined) {
    const template = await db.messageTemplate.findUnique({ where: { id: input.templateId } })
    if (template === null) throw new ERRORS.NotFound('Template')
    return template.body
  }
  if (input.text === undefined || input.text.trim() === '') throw new ERRORS.BadRequest('Give text or templateId')
  assertKnownFields(input.text)
  return input.text
}

const view = (t: { id: string, name: string, body: string, createdAt: Date, updatedAt: Date }) =>
  ({ id: t.id, name: t.name, body: t.body, createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString() })

export function createTemplateService (db: TenantPrismaClient, churchName: string) {
  return {
    async list () { return (await db.messageTemplate.findMany({ orderBy: { name: 'asc' } })).map(view) },
    async get (id: string) {
      const t = await db.messageTemplate.findUnique({ where: { id } })
      if (t === null) throw new ERRORS.NotFound('Template')
      return view(t)
    },
    async create (input: { name: string, body: string }) {
      assertKnownFields(input.body)
      return view(await db.messageTemplate.create({ data: input }))
    },
    async update (id: string, input: { name?: string | undefined, body?: string | undefined }) {
      if (input.body !== undefined) assertKnownFields(input.body)
      return view(await db.messageTemplate.update({ where: { id }, data: input }))
    },
    async remove (id: string) { await db.messageTemplate.delete({ where: { id } }) },
    async preview (input: { body?: string | undefined, templateId?: string | undefined, memberId?: string | undefined }) {
      const body = await resolveBody(db, { text: input.body, templateId: input.templateId })
      const member = input.memberId === undefined ? undefined : await db.member.findUnique({ where: { id: input.memberId } })
      if (member === null) throw new ERRORS.NotFound('Member')
      // Without a member the sample names show roughly what a real recipient's text costs.
      const text = renderTemplate(body, { firstName: member?.firstName ?? 'Jane', lastName: member?.lastName ?? 'Doe', churchName })
      return { text, ...countSegments(text) }
    }
  }
}
