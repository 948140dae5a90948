create table if not exists prisma_typed_values (
  id int auto_increment primary key,
  tag varchar(64) not null,
  big bigint not null,
  price decimal(12, 4) not null,
  ratio double not null,
  flag tinyint(1) not null,
  at datetime(3) not null,
  day date not null,
  doc json not null,
  `blob` longblob not null,
  note varchar(255)
) engine=InnoDB;
