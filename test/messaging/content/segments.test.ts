import t from 'tap'
import { countSegments } from '../../../src/messaging/content/segments.js'

const emoji = '🙏' // outside the BMP: two UTF-16 code units

const cases: Array<[label: string, text: string, expected: ReturnType<typeof countSegments>]> = [
  ['empty', '', { encoding: 'GSM-7', segments: 0, characters: 0, perSegment: 160 }],
  ['short', 'Hello church!', { encoding: 'GSM-7', segments: 1, characters: 13, perSegment: 160 }],
  ['160 GSM', 'a'.repeat(160), { encoding: 'GSM-7', segments: 1, characters: 160, perSegment: 160 }],
  ['161 GSM', 'a'.repeat(161), { encoding: 'GSM-7', segments: 2, characters: 161, perSegment: 153 }],
  ['306 GSM', 'a'.repeat(306), { encoding: 'GSM-7', segments: 2, characters: 306, perSegment: 153 }],
  ['307 GSM', 'a'.repeat(307), { encoding: 'GSM-7', segments: 3, characters: 307, perSegment: 153 }],
  ['euro counts 2', '€', { encoding: 'GSM-7', segments: 1, characters: 2, perSegment: 160 }],
  ['all extension chars', '^{}\\[~]|€', { encoding: 'GSM-7', segments: 1, characters: 18, perSegment: 160 }],
  ['80 euros = 160 septets', '€'.repeat(80), { encoding: 'GSM-7', segments: 1, characters: 160, perSegment: 160 }],
  ['159 + euro overflows', 'a'.repeat(159) + '€', { encoding: 'GSM-7', segments: 2, characters: 161, perSegment: 153 }],
  // 152 septets then an escape pair: the pair moves whole to segment 2 instead of splitting.
  ['escape pair not split', 'a'.repeat(152) + '€' + 'a'.repeat(152), { encoding: 'GSM-7', segments: 3, characters: 306, perSegment: 153 }],
  ['GSM accents stay GSM', 'Café à Noel? ¿Qué? ÄÖÜ äöü ß', { encoding: 'GSM-7', segments: 1, characters: 28, perSegment: 160 }],
  ['newlines are GSM', 'line1\nline2\r\n', { encoding: 'GSM-7', segments: 1, characters: 13, perSegment: 160 }],
  ['ë is not GSM', 'Noël', { encoding: 'UCS-2', segments: 1, characters: 4, perSegment: 70 }],
  ['one emoji switches to UCS-2', 'Hi ' + emoji, { encoding: 'UCS-2', segments: 1, characters: 5, perSegment: 70 }],
  ['curly quote switches to UCS-2', 'It’s Sunday', { encoding: 'UCS-2', segments: 1, characters: 11, perSegment: 70 }],
  ['70 UCS-2', 'ç'.repeat(69) + '—', { encoding: 'UCS-2', segments: 1, characters: 70, perSegment: 70 }],
  ['71 UCS-2', '—'.repeat(71), { encoding: 'UCS-2', segments: 2, characters: 71, perSegment: 67 }],
  ['134 UCS-2', '—'.repeat(134), { encoding: 'UCS-2', segments: 2, characters: 134, perSegment: 67 }],
  ['135 UCS-2', '—'.repeat(135), { encoding: 'UCS-2', segments: 3, characters: 135, perSegment: 67 }],
  ['35 emoji = 70 units', emoji.repeat(35), { encoding: 'UCS-2', segments: 1, characters: 70, perSegment: 70 }],
  ['36 emoji = 72 units', emoji.repeat(36), { encoding: 'UCS-2', segments: 2, characters: 72, perSegment: 67 }],
  // 66 units then an emoji: the surrogate pair moves whole to segment 2 (67 + 2 would split it).
  ['surrogate pair not split', '—'.repeat(66) + emoji + '—'.repeat(66), { encoding: 'UCS-2', segments: 3, characters: 134, perSegment: 67 }],
]

t.test('countSegments', async (t) => {
  for (const [label, text, expected] of cases) t.same(countSegments(text), expected, label)
})

t.test('segments grow monotonically with length', async (t) => {
  const drops: number[] = []
  let previous = 0
  for (let n = 0; n <= 1000; n++) {
    const { segments } = countSegments('x'.repeat(n))
    if (segments < previous) drops.push(n)
    previous = segments
  }
  t.same(drops, [])
  t.equal(previous, Math.ceil(1000 / 153))
})
