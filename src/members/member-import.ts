// CSV import: parsed rows are merged with existing members by phone (blanks filled, branches united,
// missing branches created) in one transaction, in chunks, so 10,000 rows take seconds, not minutes.
// Consent is never touched: an opted-out member stays opted out.
import { randomUUID } from 'node:crypto'
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'
import { parseMemberCsv, type ImportError } from './csv-import.js'

const CHUNK = 1000

export interface ImportSummary { created: number, updated: number, skipped: number, errors: ImportError[] }

function chunks<T> (items: T[], size = CHUNK): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export async function importMembers (db: TenantPrismaClient, csv: string): Promise<ImportSummary> {
  const { rows, errors } = parseMemberCsv(csv)
  const skipped = errors.filter((e) => !e.message.endsWith('imported without email')).length
  if (rows.length === 0) return { created: 0, updated: 0, skipped, errors }

  return await db.$transaction(async (tx) => {
    const existing = new Map<string, string>()
    for (const part of chunks(rows.map((r) => r.phone))) {
      for (const m of await tx.member.findMany({ where: { phone: { in: part } }, select: { id: true, phone: true } })) existing.set(m.phone, m.id)
    }

    const branchNames = [...new Set(rows.flatMap((r) => r.branches))]
    const branchIds = new Map<string, string>()
    if (branchNames.length > 0) {
      const known = await tx.branch.findMany({ select: { id: true, name: true } })
      for (const b of known) branchIds.set(b.name.toLowerCase(), b.id)
      const missing = branchNames.filter((n) => !branchIds.has(n.toLowerCase()))
      await tx.branch.createMany({ data: missing.map((name) => ({ name })), skipDuplicates: true })
      for (const b of await tx.branch.findMany({ where: { name: { in: missing } }, select: { id: true, name: true } })) branchIds.set(b.name.toLowerCase(), b.id)
    }

    const fresh = rows.filter((r) => !existing.has(r.phone)).map((r) => ({ ...r, id: randomUUID() }))
    // Array-bound INSERTs: Prisma's createMany spends seconds building statements of thousands of rows.
    for (const part of chunks(fresh, 5000)) {
      await tx.$executeRaw`
        INSERT INTO "Member" (id, "firstName", "lastName", phone, email, "updatedAt")
        SELECT v.id, v.fn, v.ln, v.ph, NULLIF(v.em, ''), now()
        FROM unnest(${part.map((r) => r.id)}::text[], ${part.map((r) => r.firstName)}::text[], ${part.map((r) => r.lastName)}::text[],
                    ${part.map((r) => r.phone)}::text[], ${part.map((r) => r.email ?? '')}::text[]) AS v(id, fn, ln, ph, em)`
    }
    const merged = rows.filter((r) => existing.has(r.phone))
    for (const part of chunks(merged)) {
      // Only blanks are filled: what the church already typed wins over the spreadsheet.
      await tx.$executeRaw`
        UPDATE "Member" m SET
          "firstName" = CASE WHEN m."firstName" = '' THEN v.fn ELSE m."firstName" END,
          "lastName" = CASE WHEN m."lastName" = '' THEN v.ln ELSE m."lastName" END,
          "email" = COALESCE(m."email", NULLIF(v.em, '')),
          "updatedAt" = now()
        FROM unnest(${part.map((r) => existing.get(r.phone) ?? '')}::text[], ${part.map((r) => r.firstName)}::text[],
                    ${part.map((r) => r.lastName)}::text[], ${part.map((r) => r.email ?? '')}::text[]) AS v(id, fn, ln, em)
        WHERE m.id = v.id`
    }

    const links = [...fresh, ...merged.map((r) => ({ ...r, id: existing.get(r.phone) ?? '' }))]
      .flatMap((r) => r.branches.map((name) => ({ memberId: r.id, branchId: branchIds.get(name.toLowerCase()) ?? '' })))
      .filter((l) => l.branchId !== '')
    for (const part of chunks(links, 5000)) {
      await tx.$executeRaw`
        INSERT INTO "BranchMember" ("branchId", "memberId")
        SELECT b, m FROM unnest(${part.map((l) => l.branchId)}::text[], ${part.map((l) => l.memberId)}::text[]) AS v(b, m)
        ON CONFLICT DO NOTHING`
    }
    return { created: fresh.length, updated: merged.length, skipped, errors }
  }, { timeout: 60_000, maxWait: 10_000 })
}
