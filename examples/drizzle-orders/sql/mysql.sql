-- The example's tables on MariaDB/MySQL, created for real by test/global-setup.ts (DDL inside
-- the sandbox would commit the test's transaction, so sqlsandbox refuses it: IMPLICIT_COMMIT).
create table if not exists drizzle_example_products (
  id int auto_increment primary key,
  name varchar(255) not null,
  stock int not null check (stock >= 0)
) engine=InnoDB;

create table if not exists drizzle_example_orders (
  id int auto_increment primary key,
  customer varchar(255) not null
) engine=InnoDB;

create table if not exists drizzle_example_order_lines (
  order_id int not null,
  product_id int not null,
  qty int not null check (qty > 0),
  primary key (order_id, product_id),
  foreign key (order_id) references drizzle_example_orders (id),
  foreign key (product_id) references drizzle_example_products (id)
) engine=InnoDB;
