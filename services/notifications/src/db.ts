import type { Pool } from '@shopnow/kit/mysql';
import type { RowDataPacket } from 'mysql2/promise';

export interface NewNotification {
  eventId: string;
  orderId: string;
  userId: number;
  channel: string;
  template: string;
}

export interface NotificationRow extends RowDataPacket {
  id: number;
  event_id: string;
  order_id: string;
  user_id: number;
  channel: string;
  template: string;
  created_at: Date;
}

/** False when this event was recorded before (a redelivery). */
export async function insertNotification(pool: Pool, n: NewNotification): Promise<boolean> {
  try {
    await pool.query(
      'INSERT INTO notifications (event_id, order_id, user_id, channel, template) VALUES (?, ?, ?, ?, ?)',
      [n.eventId, n.orderId, n.userId, n.channel, n.template],
    );
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_DUP_ENTRY') return false;
    throw err;
  }
}

export async function listNotifications(pool: Pool, orderId: string): Promise<NotificationRow[]> {
  const [rows] = await pool.query<NotificationRow[]>(
    'SELECT id, event_id, order_id, user_id, channel, template, created_at FROM notifications WHERE order_id = ? ORDER BY id',
    [orderId],
  );
  return rows;
}
