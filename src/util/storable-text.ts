// PostgreSQL text cannot hold NUL (U+0000), and UTF-8 has no encoding for an unpaired UTF-16 surrogate:
// either one reaching a query fails it (a 500). Clients' input with such text is refused; text a
// carrier sent us is cleaned instead, since refusing it would lose the message.

// ES2024 string methods, present in Node 20 though the project's lib is ES2023.
declare global {
  interface String {
    isWellFormed: () => boolean
    toWellFormed: () => string
  }
}

/** True when PostgreSQL can store the string as text. */
export function isStorable (text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed()
}

/** The same text without NUL characters and with each unpaired surrogate replaced by U+FFFD. */
export function cleanText (text: string): string {
  return isStorable(text) ? text : text.replaceAll('\u0000', '').toWellFormed()
}

/**
 * The path of the first string (key or value) in a parsed JSON value that PostgreSQL cannot store,
 * or undefined. Walks with an explicit stack: a deeply nested body must not overflow the call stack.
 */
export function findUnstorable (value: unknown, root: string): string | undefined {
  const stack: Array<[unknown, string]> = [[value, root]]
  while (stack.length > 0) {
    const [current, path] = stack.pop() as [unknown, string]
    if (typeof current === 'string') {
      if (!isStorable(current)) return path
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => { stack.push([item, `${path}[${index}]`]) })
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, item] of Object.entries(current)) {
        if (!isStorable(key)) return path
        stack.push([item, `${path}.${key}`])
      }
    }
  }
  return undefined
}

/** A deep copy of a parsed JSON value with every string (keys too) cleaned. */
export function cleanStrings<T> (value: T): T {
  if (typeof value === 'string') return cleanText(value) as T
  if (Array.isArray(value)) return value.map((item) => cleanStrings(item)) as T
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [cleanText(key), cleanStrings(item)])) as T
  }
  return value
}
