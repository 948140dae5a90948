/** One statement (or a script: the template connection allows several) and its rows. */
export type Sql = (
  text: string,
  values?: readonly unknown[],
) => Promise<Array<Record<string, unknown>>>

export function ident(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``
}

export function literal(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`
}
