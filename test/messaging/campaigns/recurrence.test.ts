import t from 'tap'
import { wallTime } from '../../../src/messaging/sending/quiet-hours.js'
import { nextOccurrence, validateSchedule } from '../../../src/messaging/campaigns/recurrence.js'

t.test('nextOccurrence', async (t) => {
  const cases: Array<[label: string, schedule: string, zone: string, after: string, expected: string | null]> = [
    // Sunday 1 March 09:00 CST exactly: the next one is strictly later, and on CDT after the change.
    ['cron in Chicago across DST', '0 9 * * 0', 'America/Chicago', '2026-03-01T15:00:00Z', '2026-03-08T14:00:00Z'],
    ['cron just before', '0 9 * * 0', 'America/Chicago', '2026-03-01T14:59:59Z', '2026-03-01T15:00:00Z'],
    ['weekly across spring forward', 'weekly:SUN@09:30', 'America/New_York', '2026-03-01T14:30:00Z', '2026-03-08T13:30:00Z'],
    ['weekly across fall back', 'weekly:SUN@09:30', 'America/New_York', '2026-10-25T13:30:00Z', '2026-11-01T14:30:00Z'],
    ['weekly Monday -> Wednesday', 'weekly:MON,WED@18:00', 'America/Chicago', '2026-01-06T00:00:00Z', '2026-01-08T00:00:00Z'],
    ['weekly Wednesday -> Monday', 'weekly:MON,WED@18:00', 'America/Chicago', '2026-01-08T00:00:00Z', '2026-01-13T00:00:00Z'],
    ['lower case, one-digit hour', 'weekly:sun@9:30', 'America/New_York', '2026-01-01T00:00:00Z', '2026-01-04T14:30:00Z'],
    ['days in any order', 'weekly:WED,MON@18:00', 'America/Chicago', '2026-01-06T00:00:00Z', '2026-01-08T00:00:00Z'],
    ['spaces around the rule', '  weekly:SAT@07:00 ', 'Europe/London', '2026-01-01T00:00:00Z', '2026-01-03T07:00:00Z'],
    // 02:30 does not exist on 8 March in New York: it fires at 03:30 EDT rather than being skipped.
    ['cron in the spring gap', '30 2 * * *', 'America/New_York', '2026-03-08T05:00:00Z', '2026-03-08T07:30:00Z'],
    ['cron on the repeated hour fires once', '30 1 * * *', 'America/New_York', '2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z'],
    ['monthly cron', '0 12 1 * *', 'UTC', '2026-01-15T00:00:00Z', '2026-02-01T12:00:00Z'],
    ['never fires', '0 0 30 2 *', 'UTC', '2026-01-01T00:00:00Z', null],
    ['invalid cron', 'not a cron', 'UTC', '2026-01-01T00:00:00Z', null],
    ['invalid zone', '0 9 * * 0', 'Mars/Olympus_Mons', '2026-01-01T00:00:00Z', null],
  ]
  for (const [label, schedule, zone, after, expected] of cases) {
    const next = nextOccurrence(schedule, zone, new Date(after))
    t.equal(next?.toISOString() ?? null, expected && new Date(expected).toISOString(), label)
  }
})

t.test('a weekly rule stays at the same local time all year', async (t) => {
  const zone = 'America/New_York'
  const seen: string[] = []
  let cursor = new Date('2026-01-01T00:00:00Z')
  for (let i = 0; i < 52; i++) {
    const next = nextOccurrence('weekly:SUN@09:30', zone, cursor)
    if (!next) break
    const local = wallTime(next, zone)
    const weekday = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short' }).format(next)
    seen.push(`${weekday} ${local.hour}:${local.minute}`)
    cursor = next
  }
  t.equal(seen.length, 52)
  t.same(new Set(seen), new Set(['Sun 9:30']))
  t.equal(cursor.toISOString(), '2026-12-27T14:30:00.000Z')
})

t.test('validateSchedule', async (t) => {
  const valid = ['0 9 * * 0', '*/15 8-20 * * 1-5', '0 18 * * MON,WED', 'weekly:SUN@09:30', 'weekly:MON,WED@18:00', 'weekly:fri@23:59']
  for (const schedule of valid) t.equal(validateSchedule(schedule, 'America/Chicago'), null, schedule)

  const invalid: Array<[schedule: string, zone: string, mentions: RegExp]> = [
    ['0 9 * * 0', 'Mars/Olympus_Mons', /unknown time zone/],
    ['0 9 * * 0', '', /unknown time zone/],
    ['0 9 * *', 'UTC', /5 cron fields/],
    ['0 0 9 * * 0', 'UTC', /5 cron fields/],
    ['', 'UTC', /5 cron fields/],
    ['61 * * * *', 'UTC', /invalid schedule/],
    ['0 9 * * 8', 'UTC', /invalid schedule/],
    ['0 0 30 2 *', 'UTC', /invalid schedule/],
    ['bogus x y z w', 'UTC', /invalid schedule/],
    ['weekly:FUN@09:30', 'UTC', /unknown day "FUN"/],
    ['weekly:SUN@24:00', 'UTC', /00:00 to 23:59/],
    ['weekly:SUN@09:60', 'UTC', /00:00 to 23:59/],
    ['weekly:SUN@9', 'UTC', /weekly:DAY/],
    ['weekly:@09:30', 'UTC', /weekly:DAY/],
    ['weekly:SUN,@09:30', 'UTC', /unknown day ""/],
    ['weekly:SUN 09:30', 'UTC', /weekly:DAY/],
  ]
  for (const [schedule, zone, mentions] of invalid) {
    t.match(validateSchedule(schedule, zone), mentions, `${JSON.stringify(schedule)} in ${JSON.stringify(zone)}`)
  }
})
