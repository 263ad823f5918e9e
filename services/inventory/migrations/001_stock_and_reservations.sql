-- The inventory's own schema (database per service): stock per product id, and one reservation
-- per order, whose primary key makes a redelivered order.created a no-op.
CREATE TABLE IF NOT EXISTS stock (
  product_id INT UNSIGNED NOT NULL PRIMARY KEY,
  available INT UNSIGNED NOT NULL,
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS reservations (
  order_id CHAR(36) NOT NULL PRIMARY KEY,
  status ENUM('reserved', 'rejected') NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS reservation_lines (
  order_id CHAR(36) NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  quantity BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (order_id, product_id),
  CONSTRAINT reservation_lines_order FOREIGN KEY (order_id) REFERENCES reservations (order_id)
) ENGINE = InnoDB;
