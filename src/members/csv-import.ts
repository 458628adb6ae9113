// Member lists arrive as spreadsheets exported from other church tools, each with its own headings.
// We map the columns we recognise, normalise phones to E.164, and merge repeats of the same phone.
import { parse } from 'csv-parse/sync'
import { normalizePhone } from '../util/phone.js'

export interface ImportedMember {
  /** 1-based line in the file of the first row for this phone. */
  line: number
  firstName: string
  lastName: string
  phone: string
  email?: string
  branches: string[]
}

export interface ImportError {
  line: number
  message: string
}

export interface ImportResult {
  rows: ImportedMember[]
  /** Rows skipped (bad or missing phone, malformed CSV), plus invalid emails that were left out. */
  errors: ImportError[]
}

type Field = 'firstName' | 'lastName' | 'name' | 'phone' | 'email' | 'branches'

// Headings are compared lower-cased with spaces, underscores, dots and hyphens removed.
const SYNONYMS: Record<Field, string[]> = {
  firstName: ['firstname', 'first', 'givenname', 'forename', 'fname'],
  lastName: ['lastname', 'last', 'surname', 'familyname', 'lname'],
  name: ['name', 'fullname', 'membername'],
  phone: [
    'phone', 'mobile', 'cell', 'phonenumber', 'mobilephone', 'mobilenumber', 'cellphone', 'cellnumber', 'telephone', 'tel',
  ],
  email: ['email', 'emailaddress', 'mail'],
  branches: ['groups', 'group', 'branches', 'branch'],
}
const FIELD_BY_HEADING = new Map<string, Field>(
  Object.entries(SYNONYMS).flatMap(([field, names]) => names.map((n) => [n, field as Field] as const))
)
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export function parseMemberCsv (
  csv: string,
  { defaultCountry = 'US' }: { defaultCountry?: string } = {}
): ImportResult {
  // Normalising line endings first keeps csv-parse's line count equal to what an editor shows.
  const text = csv.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
  const errors: ImportError[] = []
  const records = parse(text, {
    delimiter: detectDelimiter(text),
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      const line = typeof err?.lines === 'number' ? err.lines : 0
      errors.push({ line, message: `unreadable row: ${err?.message ?? 'malformed CSV'}` })
      return undefined
    },
  }) as unknown as Array<{ record: string[], info: { lines: number } }>

  const [header, ...body] = records
  const columns = header ? mapColumns(header.record) : new Map<Field, number>()
  if (!columns.has('phone')) {
    return { rows: [], errors: [{ line: 1, message: 'no phone column (expected a heading such as "phone" or "mobile")' }] }
  }

  const byPhone = new Map<string, ImportedMember>()
  for (const { record, info } of body) {
    // info.lines is where the record ends; a quoted field may have spanned several lines.
    const line = info.lines - record.reduce((n, cell) => n + countNewlines(cell), 0)
    const cell = (field: Field) => {
      const index = columns.get(field)
      return index === undefined ? '' : (record[index] ?? '').trim()
    }
    if (record.every((value) => value.trim() === '')) continue

    const rawPhone = cell('phone')
    const phone = rawPhone ? normalizePhone(rawPhone, defaultCountry) : null
    if (!phone) {
      errors.push({ line, message: rawPhone ? `invalid phone number "${rawPhone}"` : 'missing phone number' })
      continue
    }
    let email: string | undefined = cell('email').toLowerCase() || undefined
    if (email && !EMAIL.test(email)) {
      errors.push({ line, message: `invalid email "${email}"; imported without email` })
      email = undefined
    }
    const names = splitName(cell('firstName'), cell('lastName'), cell('name'))
    const member: ImportedMember = { line, ...names, phone, branches: splitBranches(cell('branches')) }
    if (email) member.email = email

    const earlier = byPhone.get(phone)
    if (earlier) mergeInto(earlier, member)
    else byPhone.set(phone, member)
  }
  return { rows: [...byPhone.values()], errors: errors.sort((a, b) => a.line - b.line) }
}

function mapColumns (headings: string[]): Map<Field, number> {
  const columns = new Map<Field, number>()
  headings.forEach((heading, index) => {
    const field = FIELD_BY_HEADING.get(heading.toLowerCase().replace(/[\s_.-]+/g, ''))
    // With two columns for the same thing (e.g. "Phone" and "Mobile"), the first one wins.
    if (field && !columns.has(field)) columns.set(field, index)
  })
  return columns
}

/** Spreadsheets saved in some locales use ";" (or tabs): pick whichever the heading line uses most. */
function detectDelimiter (text: string): string {
  const end = text.indexOf('\n')
  const headerLine = end < 0 ? text : text.slice(0, end)
  const counts = [',', ';', '\t'].map((d) => [d, headerLine.split(d).length] as const)
  return counts.reduce((best, c) => (c[1] > best[1] ? c : best))[0]
}

function splitName (first: string, last: string, full: string): { firstName: string, lastName: string } {
  if (first || last || !full) return { firstName: first, lastName: last }
  // "Smith, John" is how many directories list people; otherwise the last word is the surname.
  const comma = full.indexOf(',')
  if (comma >= 0) return { firstName: full.slice(comma + 1).trim(), lastName: full.slice(0, comma).trim() }
  const words = full.split(/\s+/)
  if (words.length === 1) return { firstName: full, lastName: '' }
  return { firstName: words.slice(0, -1).join(' '), lastName: words.at(-1) ?? '' }
}

function splitBranches (value: string): string[] {
  return dedupe(value.split(/[;,]/).map((b) => b.trim()).filter(Boolean))
}

/** Branch names compared without case; the first spelling seen is kept. */
function dedupe (names: string[]): string[] {
  const seen = new Map<string, string>()
  for (const name of names) if (!seen.has(name.toLowerCase())) seen.set(name.toLowerCase(), name)
  return [...seen.values()]
}

/** The first row for a phone keeps its values; later rows only fill what it left blank. */
function mergeInto (target: ImportedMember, later: ImportedMember): void {
  if (!target.firstName) target.firstName = later.firstName
  if (!target.lastName) target.lastName = later.lastName
  if (!target.email && later.email) target.email = later.email
  target.branches = dedupe([...target.branches, ...later.branches])
}

function countNewlines (s: string): number {
  let n = 0
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++
  return n
}
