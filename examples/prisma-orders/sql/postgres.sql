-- The tables of prisma/schema.postgres.prisma, created by test/global-setup.ts (prisma db push
-- needs the schema engine, which is never downloaded here). They hold nothing between test runs
-- (every test rolls back), so the setup makes them again from this file: a changed shape takes
-- effect at the next run.
drop table if exists prisma_example_order_lines;
drop table if exists prisma_example_orders;
drop table if exists prisma_example_products;

create table prisma_example_products (
  id serial primary key,
  name text not null,
  stock integer not null check (stock >= 0),
  price_cents integer not null check (price_cents >= 0)
);

create table prisma_example_orders (
  id serial primary key,
  customer text not null,
  status text not null default 'placed',
  total_cents integer,
  payment_id text
);

create table prisma_example_order_lines (
  order_id integer not null references prisma_example_orders (id),
  product_id integer not null references prisma_example_products (id),
  qty integer not null check (qty > 0),
  primary key (order_id, product_id)
);
