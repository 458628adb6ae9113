// Merge fields in message templates: checked when a template is saved, filled in per recipient.

export const MERGE_FIELDS = ['firstName', 'lastName', 'churchName'] as const
export type MergeField = (typeof MERGE_FIELDS)[number]
export type MergeValues = Partial<Record<MergeField, string | null | undefined>>

const FIELD = /\{\{\s*([^{}]*?)\s*\}\}/g
const KNOWN = new Set<string>(MERGE_FIELDS)
// Marks where an empty value was, so that only the spacing around it is tidied, not the author's.
const EMPTY = '\0'

/** Field names used in `body` that we cannot fill, in order of first use; empty when all are known. */
export function findUnknownFields (body: string): string[] {
  const unknown = new Set<string>()
  for (const match of body.matchAll(FIELD)) {
    const name = match[1] ?? ''
    if (!KNOWN.has(name)) unknown.add(name)
  }
  return [...unknown]
}

export function renderTemplate (body: string, values: MergeValues): string {
  const filled = body.replace(/\0/g, '').replace(FIELD, (whole, name: string) => {
    if (!KNOWN.has(name)) return whole
    return (values[name as MergeField] ?? '').replace(/\0/g, '').trim() || EMPTY
  })
  // An empty field must not leave "Hi  John", "Hi , welcome", a leading space or one before a line
  // break; the author's own line breaks are kept.
  return filled
    .replace(/\0( *\0)+/g, EMPTY)
    .replace(/ +\0(?=[,.!?;:])/g, '')
    .replace(/\0/g, '')
    .replace(/ {2,}/g, ' ')
    .replace(/ +$/gm, '')
    .trim()
}
