-- The example's tables on PostgreSQL, created for real by test/global-setup.ts. They hold nothing
-- between runs (every test rolls back), so the setup makes them again from this file: a changed
-- shape takes effect at the next run.
drop table if exists drizzle_example_order_lines;
drop table if exists drizzle_example_orders;
drop table if exists drizzle_example_products;

create table drizzle_example_products (
  id serial primary key,
  name text not null,
  stock integer not null check (stock >= 0),
  price_cents integer not null check (price_cents >= 0)
);

-- status: 'placed' by the order's transaction, 'confirmed' by the confirmation job once paid.
-- total_cents: written by the invoice thread; payment_id: the payment provider's id.
create table drizzle_example_orders (
  id serial primary key,
  customer text not null,
  status text not null default 'placed',
  total_cents integer,
  payment_id text
);

create table drizzle_example_order_lines (
  order_id integer not null references drizzle_example_orders (id),
  product_id integer not null references drizzle_example_products (id),
  qty integer not null check (qty > 0),
  primary key (order_id, product_id)
);
