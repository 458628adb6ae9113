// SMS segment counting (3GPP TS 23.038): what a message costs, shown to the sender before sending.

export interface SegmentCount {
  encoding: 'GSM-7' | 'UCS-2'
  segments: number
  /** Encoded length: septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2. */
  characters: number
  /** Capacity of one segment at this length: the single-message limit, or the concatenated one. */
  perSegment: number
}

const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'
)
// Sent as ESC + character, so each takes two septets.
const GSM_EXTENSION = new Set('\f^{}\\[~]|€')

const LIMITS = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
} as const

export function countSegments (text: string): SegmentCount {
  const gsm = gsmUnits(text)
  const encoding = gsm ? 'GSM-7' : 'UCS-2'
  // Units are the indivisible pieces: an escape pair, or a surrogate pair, never split across segments.
  const units = gsm ?? ucs2Units(text)
  const characters = units.reduce((sum, u) => sum + u, 0)
  const limits = LIMITS[encoding]
  if (characters === 0) return { encoding, segments: 0, characters, perSegment: limits.single }
  if (characters <= limits.single) return { encoding, segments: 1, characters, perSegment: limits.single }
  return { encoding, segments: pack(units, limits.multi), characters, perSegment: limits.multi }
}

/** Septet widths per character, or null when some character has no GSM-7 form. */
function gsmUnits (text: string): number[] | null {
  const units: number[] = []
  for (const ch of text) {
    if (GSM_BASIC.has(ch)) units.push(1)
    else if (GSM_EXTENSION.has(ch)) units.push(2)
    else return null
  }
  return units
}

/** UTF-16 code units per code point: 2 for anything outside the BMP (most emoji). */
function ucs2Units (text: string): number[] {
  const units: number[] = []
  for (const ch of text) units.push(ch.length)
  return units
}

function pack (units: number[], capacity: number): number {
  let segments = 1
  let used = 0
  for (const u of units) {
    if (used + u > capacity) {
      segments++
      used = 0
    }
    used += u
  }
  return segments
}
