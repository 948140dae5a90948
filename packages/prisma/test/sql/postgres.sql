create table if not exists prisma_typed_values (
  id serial primary key,
  tag text not null,
  big bigint not null,
  price numeric(12, 4) not null,
  ratio double precision not null,
  flag boolean not null,
  at timestamptz(3) not null,
  day date not null,
  doc jsonb not null,
  blob bytea not null,
  note text
);
