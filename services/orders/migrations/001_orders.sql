-- An order is claimed as `pending` under the caller's Idempotency-Key, priced (total_cents,
-- order_items), then settled as `paid` or `declined`. Times are DATETIME(3) from the service's
-- clock (never the database's), so created_at keeps millisecond order.
CREATE TABLE IF NOT EXISTS orders (
  id CHAR(36) NOT NULL,
  user_id INT UNSIGNED NOT NULL,
  idempotency_key VARCHAR(128) NOT NULL,
  request_hash CHAR(64) NOT NULL,
  status ENUM('pending', 'paid', 'declined') NOT NULL,
  total_cents INT UNSIGNED NULL,
  currency CHAR(3) NOT NULL DEFAULT 'EUR',
  payment_id VARCHAR(64) NULL,
  created_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  -- One order per (caller, key). The key leads so that this index cannot stand in for
  -- orders_user_created: without that one, listing a user's orders scans the whole table.
  UNIQUE KEY orders_idempotency (idempotency_key, user_id),
  KEY orders_user_created (user_id, created_at)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS order_items (
  order_id CHAR(36) NOT NULL,
  product_id INT UNSIGNED NOT NULL,
  quantity SMALLINT UNSIGNED NOT NULL,
  price_cents INT UNSIGNED NOT NULL,
  PRIMARY KEY (order_id, product_id)
) ENGINE = InnoDB;

-- The transactional outbox: written in the same transaction as the order, published later by
-- the relay. trace_context holds the W3C headers of the checkout, so the publish joins its trace.
CREATE TABLE IF NOT EXISTS outbox (
  id CHAR(36) NOT NULL,
  event_type VARCHAR(64) NOT NULL,
  payload JSON NOT NULL,
  trace_context JSON NOT NULL,
  created_at DATETIME(3) NOT NULL,
  published_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  KEY outbox_unpublished (published_at, created_at)
) ENGINE = InnoDB;
