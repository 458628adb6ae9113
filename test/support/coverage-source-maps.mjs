// Loaded by tap's test processes after tsx (see .taprc). tsx leaves `sourcesContent: [null]` in the
// source maps it inlines, and the coverage report (v8-to-istanbul) then takes that null for the
// original file: every TypeScript file counted as one line. Dropping the empty field makes the
// report read the original file from disk instead. Nothing else of the module is changed.
import { register } from 'node:module'

register(import.meta.url, import.meta.url)

const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/

export async function load (url, context, nextLoad) {
  const result = await nextLoad(url, context)
  if (!url.startsWith('file://') || result.source == null) return result
  const text = typeof result.source === 'string' ? result.source : Buffer.from(result.source).toString('utf8')
  const found = INLINE_MAP.exec(text)
  if (found === null) return result
  const map = JSON.parse(Buffer.from(found[1], 'base64').toString('utf8'))
  if (!Array.isArray(map.sourcesContent) || map.sourcesContent.some((content) => content !== null)) return result
  delete map.sourcesContent
  const inline = Buffer.from(JSON.stringify(map)).toString('base64')
  return { ...result, source: `${text.slice(0, found.index)}//# sourceMappingURL=data:application/json;base64,${inline}\n` }
}
