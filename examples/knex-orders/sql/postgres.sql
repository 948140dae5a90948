-- The example's tables, created for real by test/global-setup.ts (and by you, for the server).
create table if not exists knex_example_products (
  id serial primary key,
  name text not null,
  stock integer not null check (stock >= 0)
);

create table if not exists knex_example_orders (
  id serial primary key,
  customer text not null
);

create table if not exists knex_example_order_lines (
  order_id integer not null references knex_example_orders (id),
  product_id integer not null references knex_example_products (id),
  qty integer not null check (qty > 0)
);
