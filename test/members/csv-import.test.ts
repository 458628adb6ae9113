import t from 'tap'
import { parseMemberCsv } from '../../src/members/csv-import.js'

const crlf = (lines: string[]) => lines.join('\r\n') + '\r\n'

t.test('BOM, CRLF, quoted commas, duplicates and bad phones', async (t) => {
  const csv = '\uFEFF' + crlf([
    'First Name,Last Name,Mobile,E-mail,Groups',
    'Grace,Hopper,(555) 123-4567,GRACE@example.org,"Choir, Youth"',
    '"Smith, Jr.",Alan,555.987.6543,,Men',
    'Bad,Phone,12345,,',
    'No,Phone,,,',
    ',,555.123.4567,grace2@example.org,youth;Ushers',
    'Ada,Lovelace,+44 20 7946 0958,ada@example.org,',
    '',
    ',,,,',
  ])
  const { rows, errors } = parseMemberCsv(csv)
  t.same(rows, [
    { line: 2, firstName: 'Grace', lastName: 'Hopper', phone: '+15551234567', email: 'grace@example.org', branches: ['Choir', 'Youth', 'Ushers'] },
    { line: 3, firstName: 'Smith, Jr.', lastName: 'Alan', phone: '+15559876543', branches: ['Men'] },
    { line: 7, firstName: 'Ada', lastName: 'Lovelace', phone: '+442079460958', email: 'ada@example.org', branches: [] },
  ])
  t.same(errors, [
    { line: 4, message: 'invalid phone number "12345"' },
    { line: 5, message: 'missing phone number' },
  ])
})

t.test('a duplicate fills blanks left by the first row', async (t) => {
  const { rows } = parseMemberCsv(crlf([
    'name,phone,email,branch',
    ',555-123-4567,,Choir',
    'Grace Hopper,1 (555) 123-4567,grace@example.org,choir',
    'Someone Else,+15551234567,other@example.org,Youth',
  ]))
  t.same(rows, [
    { line: 2, firstName: 'Grace', lastName: 'Hopper', phone: '+15551234567', email: 'grace@example.org', branches: ['Choir', 'Youth'] },
  ])
})

t.test('header synonyms', async (t) => {
  const headers = [
    ['firstname', 'lastname', 'phone', 'email', 'branches'],
    ['FIRST_NAME', 'LAST_NAME', 'PHONE_NUMBER', 'EMAIL', 'BRANCH'],
    ['Given Name', 'Surname', 'Cell', 'e-mail', 'Group'],
    [' first name ', 'Family Name', 'Cell Phone', 'Email Address', 'groups'],
  ]
  for (const header of headers) {
    const { rows, errors } = parseMemberCsv(`${header.join(',')}\nGrace,Hopper,5551234567,g@example.org,Choir\n`)
    t.same(errors, [], header.join('|'))
    t.same(rows, [{ line: 2, firstName: 'Grace', lastName: 'Hopper', phone: '+15551234567', email: 'g@example.org', branches: ['Choir'] }], header.join('|'))
  }
  const extraColumns = parseMemberCsv('Notes,Phone,Birthday,Name\nlikes hymns,555-123-4567,1990-01-01,Grace Hopper\n')
  t.same(extraColumns.rows, [{ line: 2, firstName: 'Grace', lastName: 'Hopper', phone: '+15551234567', branches: [] }])
})

t.test('a single name column is split', async (t) => {
  const cases: Array<[name: string, first: string, last: string]> = [
    ['Grace Hopper', 'Grace', 'Hopper'],
    ['Mary Ann  Smith', 'Mary Ann', 'Smith'],
    ['Hopper, Grace', 'Grace', 'Hopper'],
    ['Cher', 'Cher', ''],
    ['', '', ''],
  ]
  for (const [name, firstName, lastName] of cases) {
    const { rows } = parseMemberCsv(`Full Name,Phone\n"${name}",555-123-4567\n`)
    t.same(rows.map((r) => [r.firstName, r.lastName]), [[firstName, lastName]], name)
  }
  const both = parseMemberCsv('name,first name,phone\nGrace Hopper,Amazing,555-123-4567\n')
  t.same([both.rows[0]?.firstName, both.rows[0]?.lastName], ['Amazing', ''], 'explicit columns win over name')
})

t.test('line numbers follow the file, even across multi-line fields', async (t) => {
  const csv = ['name,phone,notes', 'A One,555-123-0001,"two', 'lines"', '', 'B Two,bad,x', 'C Three,555-123-0003,'].join('\n')
  const { rows, errors } = parseMemberCsv(csv)
  t.same(rows.map((r) => r.line), [2, 6])
  t.same(errors, [{ line: 5, message: 'invalid phone number "bad"' }])
})

t.test('other delimiters and default countries', async (t) => {
  const semicolons = parseMemberCsv('Vorname;Name;Telefon;Phone\nx;Grace Hopper;;0171 1234567\n', { defaultCountry: 'DE' })
  t.same(semicolons.rows, [{ line: 2, firstName: 'Grace', lastName: 'Hopper', phone: '+491711234567', branches: [] }])
  const tabs = parseMemberCsv('first\tlast\tphone\nGrace\tHopper\t020 7946 0958\n', { defaultCountry: 'GB' })
  t.same(tabs.rows.map((r) => r.phone), ['+442079460958'])
})

t.test('problems that are reported', async (t) => {
  t.same(parseMemberCsv(''), { rows: [], errors: [{ line: 1, message: 'no phone column (expected a heading such as "phone" or "mobile")' }] })
  t.same(parseMemberCsv('name,email\nGrace,g@example.org\n').errors.map((e) => e.line), [1])
  t.same(parseMemberCsv('name,phone\n'), { rows: [], errors: [] })

  const badEmail = parseMemberCsv('name,phone,email\nGrace Hopper,555-123-4567,not-an-email\n')
  t.same(badEmail.rows, [{ line: 2, firstName: 'Grace', lastName: 'Hopper', phone: '+15551234567', branches: [] }])
  t.same(badEmail.errors, [{ line: 2, message: 'invalid email "not-an-email"; imported without email' }])

  const unclosed = parseMemberCsv('name,phone\nGrace Hopper,555-123-4567\n"Ada Lovelace,555-123-4568\n')
  t.same(unclosed.rows.map((r) => r.phone), ['+15551234567'], 'rows before the damage are kept')
  t.equal(unclosed.errors.length, 1)
  t.match(unclosed.errors[0]?.message, /unreadable row/)
})

// Speed belongs in bench/, not in a timed test: this checks that 10,000 rows parse correctly.
t.test('10,000 rows in one file', async (t) => {
  const lines = ['First Name,Last Name,Phone,Email,Groups']
  for (let i = 0; i < 10_000; i++) {
    const phone = `(555) ${String(200 + Math.floor(i / 10_000)).padStart(3, '0')}-${String(i).padStart(4, '0')}`
    lines.push(`Member${i},"Family, ${i % 97}",${phone},m${i}@example.org,"Choir;Group ${i % 7}"`)
  }
  lines.push('Dup,Member,(555) 200-0042,,Extra', 'Bad,Phone,555,,')
  const csv = '\uFEFF' + lines.join('\r\n')
  const { rows, errors } = parseMemberCsv(csv)
  t.equal(rows.length, 10_000)
  t.same(errors, [{ line: 10_003, message: 'invalid phone number "555"' }])
  t.same(rows[42]?.branches, ['Choir', 'Group 0', 'Extra'])
  t.equal(rows[9_999]?.phone, '+15552009999')
})
