import t from 'tap'
import {
  KNOWN_AREA_CODES,
  nextSendableTime,
  timezoneForPhone,
  wallTime,
  zonedTimeToUtc,
} from '../../../src/messaging/sending/quiet-hours.js'

const at = (iso: string) => new Date(iso)

t.test('timezoneForPhone', async (t) => {
  const cases: Array<[phone: string, zone: string]> = [
    ['+12125550100', 'America/New_York'],
    ['+13125550100', 'America/Chicago'],
    ['+16025550100', 'America/Phoenix'],
    ['+18085550100', 'Pacific/Honolulu'],
    ['+19075550100', 'America/Anchorage'],
    ['+12135550100', 'America/Los_Angeles'],
    ['+13035550100', 'America/Denver'],
    ['+19155550100', 'America/Denver'], // El Paso is on Mountain time, unlike the rest of Texas
    ['+12145550100', 'America/Chicago'],
    ['+16155550100', 'America/Chicago'],
    ['+18655550100', 'America/New_York'],
    ['+17875550100', 'America/Puerto_Rico'],
    ['+14165550100', 'America/New_York'],
    ['+13065550100', 'America/Regina'],
    ['+17095550100', 'America/St_Johns'],
    ['+19995550100', 'Europe/London'], // not an assigned area code
    ['+442079460958', 'Europe/London'],
    ['+1212555010', 'Europe/London'],
    ['2125550100', 'Europe/London'],
    ['', 'Europe/London'],
  ]
  for (const [phone, zone] of cases) t.equal(timezoneForPhone(phone, 'Europe/London'), zone, phone)
})

t.test('the area code table is usable', async (t) => {
  t.ok(KNOWN_AREA_CODES.size > 400, `${KNOWN_AREA_CODES.size} area codes`)
  const badCodes = [...KNOWN_AREA_CODES.keys()].filter((code) => !/^[2-9]\d\d$/.test(code))
  t.same(badCodes, [], 'every key is a NANP area code')
  const badZones = [...new Set(KNOWN_AREA_CODES.values())].filter((zone) => {
    try {
      Intl.DateTimeFormat('en-US', { timeZone: zone })
      return false
    } catch {
      return true
    }
  })
  t.same(badZones, [], 'every zone is known to Intl')
})

t.test('nextSendableTime', async (t) => {
  const ny = 'America/New_York'
  const cases: Array<[label: string, now: string, zone: string, expected: string, quiet?: { start: number, end: number }]> = [
    ['afternoon is sendable', '2026-01-15T19:00:00Z', ny, '2026-01-15T19:00:00Z'],
    ['20:59 is sendable', '2026-01-16T01:59:00Z', ny, '2026-01-16T01:59:00Z'],
    ['21:00 starts quiet hours', '2026-01-16T02:00:00Z', ny, '2026-01-16T13:00:00Z'],
    ['22:30 -> next day 08:00', '2026-01-16T03:30:00Z', ny, '2026-01-16T13:00:00Z'],
    ['02:00 -> same day 08:00', '2026-01-15T07:00:00Z', ny, '2026-01-15T13:00:00Z'],
    ['07:59 -> 08:00', '2026-01-15T12:59:00Z', ny, '2026-01-15T13:00:00Z'],
    ['08:00 is sendable', '2026-01-15T13:00:00Z', ny, '2026-01-15T13:00:00Z'],
    // Sat 7 Mar 22:30 EST; clocks spring forward overnight, so 08:00 is EDT (UTC-4).
    ['22:30 before spring forward', '2026-03-08T03:30:00Z', ny, '2026-03-08T12:00:00Z'],
    // Sat 31 Oct 22:30 EDT; clocks fall back overnight, so 08:00 is EST (UTC-5).
    ['22:30 before fall back', '2026-11-01T02:30:00Z', ny, '2026-11-01T13:00:00Z'],
    ['01:30 twice on fall-back night', '2026-11-01T06:30:00Z', ny, '2026-11-01T13:00:00Z'],
    ['23:30 Los Angeles is the next UTC day', '2026-07-02T06:30:00Z', 'America/Los_Angeles', '2026-07-02T15:00:00Z'],
    ['Phoenix keeps MST all summer', '2026-07-02T05:00:00Z', 'America/Phoenix', '2026-07-02T15:00:00Z'],
    ['Honolulu', '2026-07-02T08:00:00Z', 'Pacific/Honolulu', '2026-07-02T18:00:00Z'],
    ['half-hour offset zone', '2026-07-01T16:30:00Z', 'Asia/Kolkata', '2026-07-02T02:30:00Z'],
    ['custom window 20-09', '2026-01-16T01:30:00Z', ny, '2026-01-16T14:00:00Z', { start: 20, end: 9 }],
    ['window within a day', '2026-01-15T17:30:00Z', ny, '2026-01-15T18:00:00Z', { start: 12, end: 13 }],
    ['after a same-day window', '2026-01-15T18:30:00Z', ny, '2026-01-15T18:30:00Z', { start: 12, end: 13 }],
    ['start = end means never quiet', '2026-01-16T03:30:00Z', ny, '2026-01-16T03:30:00Z', { start: 8, end: 8 }],
  ]
  for (const [label, now, zone, expected, quiet] of cases) {
    t.equal(nextSendableTime(at(now), zone, quiet).toISOString(), new Date(expected).toISOString(), label)
  }
  const now = at('2026-01-15T19:00:00Z')
  t.equal(nextSendableTime(now, ny), now, 'returns the same instant when sendable')
  t.throws(() => nextSendableTime(now, 'Mars/Olympus_Mons'), RangeError)
})

t.test('results never fall inside quiet hours', async (t) => {
  const zones = ['America/New_York', 'America/Chicago', 'America/Los_Angeles', 'Pacific/Honolulu', 'Europe/London', 'Australia/Lord_Howe']
  const problems: string[] = []
  // Every 41 minutes through 2026 crosses every DST transition at many times of day.
  for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 41 * 60_000) {
    for (const zone of zones) {
      const now = new Date(ms)
      const next = nextSendableTime(now, zone)
      const local = wallTime(next, zone)
      const ok = next >= now && next.getTime() - ms <= 13 * 3600_000 && local.hour >= 8 && local.hour < 21 &&
        (next === now || (local.hour === 8 && local.minute === 0))
      if (!ok) problems.push(`${zone} ${now.toISOString()} -> ${next.toISOString()}`)
    }
  }
  t.same(problems.slice(0, 10), [])
})

t.test('zonedTimeToUtc at DST transitions', async (t) => {
  const ny = 'America/New_York'
  const wall = (month: number, day: number, hour: number, minute: number) => ({ year: 2026, month, day, hour, minute })
  t.equal(zonedTimeToUtc(wall(3, 8, 1, 30), ny).toISOString(), '2026-03-08T06:30:00.000Z', 'before the gap')
  t.equal(zonedTimeToUtc(wall(3, 8, 2, 30), ny).toISOString(), '2026-03-08T07:30:00.000Z', 'in the gap: 03:30 EDT')
  t.equal(zonedTimeToUtc(wall(3, 8, 3, 30), ny).toISOString(), '2026-03-08T07:30:00.000Z', 'after the gap')
  t.equal(zonedTimeToUtc(wall(11, 1, 1, 30), ny).toISOString(), '2026-11-01T05:30:00.000Z', 'repeated hour: first')
  t.equal(zonedTimeToUtc(wall(11, 1, 2, 30), ny).toISOString(), '2026-11-01T07:30:00.000Z', 'after the repeat')
})
