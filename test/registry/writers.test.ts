// One writer per registry table that routes traffic: nothing outside src/registry/ writes Tenant,
// DatabaseServer or PhoneNumberRegistry rows (through Prisma or in SQL), and no route touches Prisma.
// Add a function to src/registry/tenants.ts (or servers.ts, phone-numbers.ts) instead.
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'

const SRC = path.resolve(import.meta.dirname, '../../src')
const PRISMA_WRITE = /\.(tenant|databaseServer|phoneNumberRegistry)\s*\.\s*(create|createMany|createManyAndReturn|update|updateMany|updateManyAndReturn|upsert|delete|deleteMany)\s*\(/
const SQL_WRITE = /\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(Tenant|DatabaseServer|PhoneNumberRegistry)"?[\s(]/i

async function sources (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name))
    .filter((file) => !file.includes(`${path.sep}generated${path.sep}`))
}

t.test('only src/registry/ writes Tenant, DatabaseServer and PhoneNumberRegistry', async (t) => {
  const files = await sources(SRC)
  t.ok(files.length > 50, `${files.length} source files read`)
  const offenders: string[] = []
  for (const file of files) {
    if (file.startsWith(path.join(SRC, 'registry') + path.sep)) continue
    const lines = (await readFile(file, 'utf8')).split('\n')
    lines.forEach((line, i) => { if (PRISMA_WRITE.test(line) || SQL_WRITE.test(line)) offenders.push(`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`) })
  }
  t.same(offenders, [], 'writes outside src/registry/')
})

t.test('routes call services, never Prisma', async (t) => {
  const offenders: string[] = []
  for (const file of await sources(path.join(SRC, 'routes'))) {
    const lines = (await readFile(file, 'utf8')).split('\n')
    lines.forEach((line, i) => { if (/\bapp\.registry\b|\$queryRaw|\$executeRaw|\$transaction/.test(line)) offenders.push(`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`) })
  }
  t.same(offenders, [])
})

t.test('the check sees a write where there is one', async (t) => {
  t.ok(PRISMA_WRITE.test('await tx.tenant.update({ where: { id } })'))
  t.ok(PRISMA_WRITE.test('registry.phoneNumberRegistry.deleteMany({})'))
  t.ok(SQL_WRITE.test('UPDATE "Tenant" SET status = $1'))
  t.notOk(PRISMA_WRITE.test('registry.tenant.findUnique({ where: { id } })'))
  t.notOk(SQL_WRITE.test('SELECT 1 FROM "Tenant" WHERE "id" = $1 FOR UPDATE'))
})
