-- One row per charge. The unique index on idempotency_key is what turns a retried or concurrent
-- request into a replay of the first one instead of a second charge.
CREATE TABLE IF NOT EXISTS payments (
  id CHAR(36) NOT NULL PRIMARY KEY,
  idempotency_key VARCHAR(128) NOT NULL,
  order_id CHAR(36) NOT NULL,
  amount_cents INT UNSIGNED NOT NULL,
  currency CHAR(3) NOT NULL,
  -- 'pending' exists only inside the transaction that charges the provider; nobody else sees it.
  status ENUM('pending', 'approved', 'declined') NOT NULL,
  decline_reason VARCHAR(64) NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY payments_idempotency_key_unique (idempotency_key),
  KEY payments_order_id (order_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
