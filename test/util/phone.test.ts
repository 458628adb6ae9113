import t from 'tap'
import { isE164, normalizePhone } from '../../src/util/phone.js'

const cases: Array<[input: string, country: string | undefined, expected: string | null]> = [
  ['(555) 123-4567', undefined, '+15551234567'],
  ['555.123.4567', undefined, '+15551234567'],
  ['1-555-123-4567', undefined, '+15551234567'],
  ['5551234567', undefined, '+15551234567'],
  ['  +1 (212) 555-0100 ', undefined, '+12125550100'],
  ['+15551234567', undefined, '+15551234567'],
  ['+44 20 7946 0958', undefined, '+442079460958'],
  ['011 44 20 7946 0958', 'US', '+442079460958'],
  ['020 7946 0958', 'GB', '+442079460958'],
  ['07700 900123', 'GB', '+447700900123'],
  ['(416) 555-0199', 'CA', '+14165550199'],
  // Without a usable default country only international numbers can be read.
  ['555-123-4567', 'ZZ', null],
  ['+1 555 123 4567', 'ZZ', '+15551234567'],
  ['', undefined, null],
  ['abc', undefined, null],
  ['123', undefined, null],
  ['call 555-123-4567', undefined, null],
  ['555-123-4567 ext 12', undefined, null],
  ['555-123-45678', undefined, null],
  ['(111) 123-4567', undefined, null],
  ['+1 055 123 4567', undefined, null],
  ['++15551234567', undefined, null],
  ['7946 0958', undefined, null],
]

t.test('normalizePhone', async (t) => {
  for (const [input, country, expected] of cases) {
    t.equal(normalizePhone(input, country), expected, `${JSON.stringify(input)} (${country ?? 'default'})`)
  }
})

t.test('isE164', async (t) => {
  t.ok(isE164('+15551234567'))
  t.ok(isE164('+442079460958'))
  t.notOk(isE164('15551234567'), 'needs the plus')
  t.notOk(isE164('+05551234567'), 'country codes do not start with 0')
  t.notOk(isE164('+1 555 123 4567'), 'no spaces')
  t.notOk(isE164('+1234567890123456'), 'at most 15 digits')
  t.notOk(isE164(''))
})

t.test('every normalized number is E.164', async (t) => {
  for (const [input, country] of cases) {
    const result = normalizePhone(input, country)
    if (result !== null) t.ok(isE164(result), result)
  }
})
