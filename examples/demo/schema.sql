-- The demo shop's tables. They live in their own PostgreSQL schema, so the demo never touches a
-- table of the database it is pointed at. The app reaches them through the connection's
-- search_path (see test/database.ts and run/database.mjs).
create schema sqlsandbox_demo;
set search_path to sqlsandbox_demo;

create table products (
  id serial primary key,
  name text not null,
  stock integer not null check (stock >= 0)
);

create table orders (
  id serial primary key,
  customer text not null,
  placed_at timestamptz not null default now()
);

create table order_lines (
  order_id integer not null references orders (id),
  product_id integer not null references products (id),
  qty integer not null check (qty > 0),
  primary key (order_id, product_id)
);

create index orders_customer on orders (customer);
