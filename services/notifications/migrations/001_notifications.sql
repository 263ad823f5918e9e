-- The notifications service's own schema (database per service). event_id is UNIQUE so that a
-- redelivered event (at-least-once delivery) never records a second notification.
CREATE TABLE IF NOT EXISTS notifications (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id CHAR(36) NOT NULL,
  order_id CHAR(36) NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  channel VARCHAR(20) NOT NULL,
  template VARCHAR(50) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY notifications_event (event_id),
  KEY notifications_order (order_id)
) ENGINE = InnoDB;
