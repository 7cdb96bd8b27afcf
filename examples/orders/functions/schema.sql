-- Example app schema. Idempotent: run by `npm start` every time.
CREATE TABLE IF NOT EXISTS orders (
  order_id   VARCHAR(64)  NOT NULL PRIMARY KEY,
  sku        VARCHAR(64)  NOT NULL,
  quantity   INT UNSIGNED NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS sku_totals (
  sku            VARCHAR(64)     NOT NULL PRIMARY KEY,
  quantity_total BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB;
