// Schedules of recurring messages: a 5-field cron expression, or the friendlier `weekly:SUN@09:30`
// that the UI writes. Both are evaluated by cron-parser in the church's zone, so a 09:30 service
// reminder stays at 09:30 local across daylight-saving changes.
import { CronExpressionParser } from 'cron-parser'

const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const
const WEEKLY = /^weekly:([a-z,]+)@(\d{1,2}):(\d{2})$/i

type Parsed = { cron: string } | { error: string }

/**
 * The first occurrence strictly after `after`, or null when the schedule never fires again
 * (or is invalid: callers are expected to have checked it with validateSchedule when saving).
 */
export function nextOccurrence (schedule: string, timeZone: string, after: Date): Date | null {
  const parsed = toCron(schedule)
  if ('error' in parsed || !isTimeZone(timeZone)) return null
  try {
    return CronExpressionParser.parse(parsed.cron, { tz: timeZone, currentDate: after }).next().toDate()
  } catch {
    return null
  }
}

/** A message for the user when the schedule cannot be used, null when it can. */
export function validateSchedule (schedule: string, timeZone: string): string | null {
  if (!isTimeZone(timeZone)) return `unknown time zone "${timeZone}"`
  const parsed = toCron(schedule)
  if ('error' in parsed) return parsed.error
  try {
    CronExpressionParser.parse(parsed.cron, { tz: timeZone }).next()
  } catch (err) {
    return `invalid schedule "${schedule}": ${(err as Error).message}`
  }
  return null
}

function toCron (schedule: string): Parsed {
  const text = schedule.trim()
  if (/^weekly:/i.test(text)) return weeklyToCron(text)
  // cron-parser also takes a seconds field and reads 4 fields leniently; we allow exactly the
  // classic 5 so that no schedule fires every second and none means something unexpected.
  const fields = text.split(/\s+/)
  if (fields.length !== 5) {
    return { error: `invalid schedule "${schedule}": expected 5 cron fields (minute hour day month weekday)` }
  }
  return { cron: fields.join(' ') }
}

function weeklyToCron (rule: string): Parsed {
  const match = WEEKLY.exec(rule)
  const usage = 'expected weekly:DAY[,DAY...]@HH:MM, e.g. weekly:SUN@09:30'
  if (!match) return { error: `invalid schedule "${rule}": ${usage}` }
  const [, dayList = '', hh = '', mm = ''] = match
  const days = new Set<number>()
  for (const name of dayList.toUpperCase().split(',')) {
    const index = DAYS.indexOf(name as (typeof DAYS)[number])
    if (index < 0) return { error: `invalid schedule "${rule}": unknown day "${name}" (use ${DAYS.join(', ')})` }
    days.add(index)
  }
  const hour = Number(hh)
  const minute = Number(mm)
  if (hour > 23 || minute > 59) return { error: `invalid schedule "${rule}": time must be 00:00 to 23:59` }
  return { cron: `${minute} ${hour} * * ${[...days].sort().join(',')}` }
}

function isTimeZone (timeZone: string): boolean {
  try {
    Intl.DateTimeFormat('en-US', { timeZone })
    return true
  } catch {
    return false
  }
}
