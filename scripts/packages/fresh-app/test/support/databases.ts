// The app's test databases: both servers, created by global-setup.ts when missing.
export const PG_URL =
  process.env.SQLSANDBOX_PKG_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_pkg_app'
export const MYSQL_URL =
  process.env.SQLSANDBOX_PKG_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/sqlsandbox_pkg_app'

export type Dialect = 'postgres' | 'mysql'

export const CREATE_ITEMS: Record<Dialect, string> = {
  postgres:
    'create table if not exists pkg_app_items (id serial primary key, tag text not null, name text not null)',
  mysql:
    'create table if not exists pkg_app_items (id int auto_increment primary key, tag varchar(64) not null, name varchar(255) not null)',
}

/** Rows whose tag starts with the parameter. */
export const COUNT_ITEMS_LIKE: Record<Dialect, string> = {
  postgres: 'select count(*)::int as n from pkg_app_items where tag like $1',
  mysql: 'select count(*) as n from pkg_app_items where tag like ?',
}
