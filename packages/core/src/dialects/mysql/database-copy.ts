import { docs, SandboxError } from '../../ownership/errors.js'
import { ident, type Sql } from './template-sql.js'

/** MariaDB's "table doesn't exist": a view over a view not created yet. */
const NO_SUCH_TABLE = 1146

/**
 * Copies a database on the same server, MariaDB/MySQL having no `CREATE DATABASE … TEMPLATE`:
 * each table from its `SHOW CREATE TABLE` (indexes, foreign keys, AUTO_INCREMENT counter, options)
 * and its rows by `INSERT … SELECT` in one script with foreign key checks off, then routines,
 * views and triggers from their own definitions. Measured faster than re-running migrations or a
 * dump (docs/scale.md). Events and sequences are refused by name rather than left behind.
 */
export async function copyDatabase(sql: Sql, from: string, to: string): Promise<string> {
  const [schema] = await sql(
    `select default_character_set_name as charset, default_collation_name as collation
       from information_schema.schemata where schema_name = ?`,
    [from],
  )
  if (!schema) throw new Error(`the template database "${from}" does not exist`)
  await refuseWhatIsNotCopied(sql, from)
  const tables = await sql(
    `select table_name as name, table_type as type from information_schema.tables
      where table_schema = ? order by table_name`,
    [from],
  )
  const names = (type: string) => tables.filter((t) => t.type === type).map((t) => String(t.name))
  await sql(
    `create database ${ident(to)} character set ${schema.charset} collate ${schema.collation}`,
  )
  await copyTables(sql, from, to, names('BASE TABLE'))
  await copyRoutines(sql, from)
  await copyViews(sql, from, to, names('VIEW'))
  await copyTriggers(sql, from, to)
  return 'SHOW CREATE + INSERT … SELECT'
}

async function copyTables(sql: Sql, from: string, to: string, tables: string[]): Promise<void> {
  const columns = await sql(
    `select table_name as t, group_concat(concat('\`', replace(column_name, '\`', '\`\`'), '\`')
            order by ordinal_position) as list
       from information_schema.columns
      where table_schema = ? and coalesce(generation_expression, '') = ''
      group by table_name`,
    [from],
  )
  const insertable = new Map(columns.map((row) => [String(row.t), String(row.list)]))
  const created = tables.length === 0 ? [] : await showCreateTables(sql, from, tables)
  const inserts = tables.flatMap((table) => {
    const list = insertable.get(table)
    if (!list) return []
    return [
      `insert into ${ident(to)}.${ident(table)} (${list}) select ${list} from ${ident(from)}.${ident(table)}`,
    ]
  })
  // DDL commits on its own; the rows go in one transaction: one log flush instead of one a table.
  const script = [
    `use ${ident(to)}`,
    'set @sqlsandbox_checks = @@foreign_key_checks, foreign_key_checks = 0',
    // Rows whose AUTO_INCREMENT column holds 0 keep it instead of drawing a new id.
    `set @sqlsandbox_mode = @@sql_mode,
         sql_mode = concat_ws(',', nullif(@@sql_mode, ''), 'NO_AUTO_VALUE_ON_ZERO')`,
    ...created,
    'start transaction',
    ...inserts,
    'commit',
    'set foreign_key_checks = @sqlsandbox_checks, sql_mode = @sqlsandbox_mode',
  ]
  await sql(script.join(';\n'))
}

/** Every table's CREATE TABLE in one round trip (the connection takes several statements). */
async function showCreateTables(sql: Sql, from: string, tables: string[]): Promise<string[]> {
  const shown = await sql(
    tables.map((table) => `show create table ${ident(from)}.${ident(table)}`).join(';\n'),
  )
  // One statement answers with its rows, several with one row list per statement.
  const results = (tables.length === 1 ? [shown] : shown) as unknown as Array<
    Array<Record<string, unknown>>
  >
  return results.map((rows) => String(rows[0]?.['Create Table']))
}

async function copyRoutines(sql: Sql, from: string): Promise<void> {
  const routines = await sql(
    `select routine_name as name, routine_type as type from information_schema.routines
      where routine_schema = ?`,
    [from],
  )
  for (const routine of routines) {
    const type = String(routine.type) === 'FUNCTION' ? 'Function' : 'Procedure'
    const [shown] = await sql(
      `show create ${type.toLowerCase()} ${ident(from)}.${ident(String(routine.name))}`,
    )
    await underSqlMode(sql, String(shown?.sql_mode), String(shown?.[`Create ${type}`]))
  }
}

async function copyViews(sql: Sql, from: string, to: string, views: string[]): Promise<void> {
  let pending = views
  while (pending.length > 0) {
    const failed: Array<{ view: string; error: unknown }> = []
    for (const view of pending) {
      const [shown] = await sql(`show create view ${ident(from)}.${ident(view)}`)
      try {
        await sql(requalified(String(shown?.['Create View']), from, to))
      } catch (error) {
        if ((error as { errno?: number }).errno !== NO_SUCH_TABLE) throw error
        failed.push({ view, error })
      }
    }
    // A pass that created nothing will not do better next time: the view names a missing table.
    if (failed.length === pending.length) throw failed[0]?.error
    pending = failed.map(({ view }) => view)
  }
}

async function copyTriggers(sql: Sql, from: string, to: string): Promise<void> {
  const triggers = await sql(
    `select trigger_name as name from information_schema.triggers
      where trigger_schema = ? order by event_object_table, action_order`,
    [from],
  )
  for (const trigger of triggers) {
    const [shown] = await sql(`show create trigger ${ident(from)}.${ident(String(trigger.name))}`)
    const text = requalified(String(shown?.['SQL Original Statement']), from, to)
    await underSqlMode(sql, String(shown?.sql_mode), text)
  }
}

/** Definitions are run with the copy as the current database, so unqualified names land there. */
async function underSqlMode(sql: Sql, mode: string, text: string): Promise<void> {
  await sql('set @sqlsandbox_mode = @@sql_mode, sql_mode = ?', [mode])
  try {
    await sql(text)
  } finally {
    await sql('set sql_mode = @sqlsandbox_mode')
  }
}

/**
 * The server writes a view's tables qualified with the template's name (`tpl`.`orders`): they
 * must name the copy's. The template's name carries a hash, so it occurs nowhere by accident.
 */
function requalified(text: string, from: string, to: string): string {
  return text.replaceAll(`${ident(from)}.`, `${ident(to)}.`)
}

async function refuseWhatIsNotCopied(sql: Sql, from: string): Promise<void> {
  const [row] = await sql(
    `select (select group_concat(event_name) from information_schema.events
              where event_schema = ?) as events,
            (select group_concat(table_name) from information_schema.tables
              where table_schema = ? and table_type = 'SEQUENCE') as sequences`,
    [from, from],
  )
  const missing = [
    row?.events ? `events ${row.events}` : '',
    row?.sequences ? `sequences ${row.sequences}` : '',
  ].filter(Boolean)
  if (missing.length === 0) return
  throw new SandboxError(
    'TEMPLATE_NOT_COPYABLE',
    `The template database "${from}" has ${missing.join(' and ')}, which the MariaDB/MySQL copy ` +
      'does not reproduce (tables with their rows, indexes and foreign keys, views, triggers, ' +
      'procedures and functions are copied). Create them in a setup step of each worker ' +
      'instead, or use copy: "migrate" to build every worker database with your migrate ' +
      `function. ${docs('template-databases')}`,
  )
}
