import { redactUrl } from '../../dialects/redact-url.js'
import type { TemplateServer } from '../../dialects/template-server.js'
import { docs, SandboxError } from '../../ownership/errors.js'

export type PgCloneStrategy = 'auto' | 'wal_log' | 'file_copy'

/** The server's template side, by the URL's scheme; each loads only its own driver. */
export async function openTemplateServer(
  url: string,
  options: { strategy?: PgCloneStrategy | undefined },
): Promise<TemplateServer> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase()
  if (scheme === 'postgres' || scheme === 'postgresql') {
    const { pgTemplateServer } = await import('../../dialects/postgres/template-server.js')
    return pgTemplateServer(url, { strategy: options.strategy ?? 'auto' })
  }
  if (scheme === 'mysql' || scheme === 'mariadb') {
    const { mysqlTemplateServer } = await import('../../dialects/mysql/template-server.js')
    return mysqlTemplateServer(url.replace(/^mariadb:/i, 'mysql:'))
  }
  throw new SandboxError(
    'INVALID_OPTION',
    `Template databases need a postgres:// or mysql:// URL, not ${scheme ? `a ${scheme}:// URL` : `"${redactUrl(url)}"`}. ${docs('template-databases')}`,
  )
}
