-- The tables of prisma/schema.mysql.prisma on MariaDB/MySQL, created by test/global-setup.ts
-- (prisma db push needs the schema engine, which is never downloaded here; and inside the
-- sandbox MariaDB/MySQL DDL would commit the test's transaction: IMPLICIT_COMMIT). They hold
-- nothing between test runs (every test rolls back), so the setup makes them again from this
-- file: a changed shape takes effect at the next run.
drop table if exists prisma_example_order_lines;
drop table if exists prisma_example_orders;
drop table if exists prisma_example_products;

create table prisma_example_products (
  id int auto_increment primary key,
  name varchar(191) not null,
  stock int not null check (stock >= 0),
  price_cents int not null check (price_cents >= 0)
) engine=InnoDB;

create table prisma_example_orders (
  id int auto_increment primary key,
  customer varchar(191) not null,
  status varchar(191) not null default 'placed',
  total_cents int,
  payment_id varchar(191)
) engine=InnoDB;

create table prisma_example_order_lines (
  order_id int not null,
  product_id int not null,
  qty int not null check (qty > 0),
  primary key (order_id, product_id),
  foreign key (order_id) references prisma_example_orders (id),
  foreign key (product_id) references prisma_example_products (id)
) engine=InnoDB;
