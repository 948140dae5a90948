-- The example's tables on MariaDB/MySQL, created for real by test/global-setup.ts (and by you,
-- for the server): inside the sandbox MariaDB/MySQL DDL would commit the test's transaction, so
-- sqlsandbox refuses it (IMPLICIT_COMMIT). They hold nothing between test runs (every test
-- rolls back), so the setup makes them again from this file: a changed shape takes effect at
-- the next run.
drop table if exists knex_example_order_lines;
drop table if exists knex_example_orders;
drop table if exists knex_example_products;

create table knex_example_products (
  id int auto_increment primary key,
  name varchar(255) not null,
  stock int not null check (stock >= 0),
  price_cents int not null check (price_cents >= 0)
) engine=InnoDB;

-- status: 'placed' by the order's transaction, 'confirmed' by the confirmation job once paid;
-- total_cents: written by the invoice thread; payment_id: the payment provider's id.
create table knex_example_orders (
  id int auto_increment primary key,
  customer varchar(255) not null,
  status varchar(16) not null default 'placed',
  total_cents int,
  payment_id varchar(64)
) engine=InnoDB;

create table knex_example_order_lines (
  order_id int not null,
  product_id int not null,
  qty int not null check (qty > 0),
  foreign key (order_id) references knex_example_orders (id),
  foreign key (product_id) references knex_example_products (id)
) engine=InnoDB;
