import t from 'tap'
import { findUnknownFields, MERGE_FIELDS, renderTemplate } from '../../../src/messaging/content/template-render.js'

t.test('MERGE_FIELDS lists what templates may use', async (t) => {
  t.same([...MERGE_FIELDS], ['firstName', 'lastName', 'churchName'])
})

t.test('findUnknownFields', async (t) => {
  const cases: Array<[body: string, unknown: string[]]> = [
    ['Hi {{firstName}} {{lastName}}, welcome to {{churchName}}!', []],
    ['Hi {{ firstName }} and {{\tlastName\n}}', []],
    ['No fields at all', []],
    ['Hi {{firstname}}', ['firstname']],
    ['Hi {{ nickname }} from {{church}} and {{nickname}} again', ['nickname', 'church']],
    ['Empty {{}} and {{   }}', ['']],
    ['{{first name}}', ['first name']],
    ['Single braces {firstName} are plain text', []],
  ]
  for (const [body, unknown] of cases) t.same(findUnknownFields(body), unknown, body)
})

t.test('renderTemplate', async (t) => {
  const full = { firstName: 'Grace', lastName: 'Hopper', churchName: 'First Baptist' }
  const cases: Array<[body: string, values: Parameters<typeof renderTemplate>[1], expected: string]> = [
    ['Hi {{firstName}} {{lastName}}, welcome to {{churchName}}!', full, 'Hi Grace Hopper, welcome to First Baptist!'],
    ['Hi {{ firstName }}!', full, 'Hi Grace!'],
    ['{{firstName}}{{firstName}}', full, 'GraceGrace'],
    ['Hi {{firstName}} {{lastName}}, see you Sunday', { firstName: 'Grace' }, 'Hi Grace, see you Sunday'],
    ['Hi {{firstName}} {{lastName}}!', { lastName: 'Hopper' }, 'Hi Hopper!'],
    ['{{firstName}} welcome', {}, 'welcome'],
    ['Hi {{firstName}} {{lastName}}, welcome', {}, 'Hi, welcome'],
    ['Hi {{firstName}}! Bring {{lastName}} .', {}, 'Hi! Bring .'],
    ['Author spacing , kept when {{firstName}} is set', { firstName: 'Al' }, 'Author spacing , kept when Al is set'],
    ['Hi {{firstName}}', { firstName: null }, 'Hi'],
    ['Hi {{firstName}}', { firstName: '  Grace  ' }, 'Hi Grace'],
    ['Line one  {{firstName}}\nLine two', {}, 'Line one\nLine two'],
    ['Unknown {{nickname}} stays', full, 'Unknown {{nickname}} stays'],
    ['Values are not re-expanded', { firstName: '{{lastName}}', lastName: 'X' }, 'Values are not re-expanded'],
    ['{{firstName}}', { firstName: '{{lastName}}', lastName: 'X' }, '{{lastName}}'],
  ]
  for (const [body, values, expected] of cases) t.equal(renderTemplate(body, values), expected, body)
})
