-- The tables of prisma/schema.prisma, created by test/global-setup.ts (prisma db push needs the
-- schema engine, which is never downloaded here).
create table if not exists prisma_example_products (
  id serial primary key,
  name text not null,
  stock integer not null check (stock >= 0)
);

create table if not exists prisma_example_orders (
  id serial primary key,
  customer text not null
);

create table if not exists prisma_example_order_lines (
  order_id integer not null references prisma_example_orders (id),
  product_id integer not null references prisma_example_products (id),
  qty integer not null check (qty > 0),
  primary key (order_id, product_id)
);
