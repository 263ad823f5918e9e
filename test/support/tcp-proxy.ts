import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of one real backend (MariaDB, Redis, RabbitMQ). The backends are
 * shared by every suite on the machine, so an outage is simulated for one stack only: `cut()`
 * destroys every open connection and refuses new ones, exactly what a service sees when its
 * broker, cache or database goes away; `restore()` accepts again.
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private server = net.createServer((client) => this.accept(client));
  private open = true;
  port = 0;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly host = '127.0.0.1',
  ) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, this.host, resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Takes `url` (mysql://, redis://, amqp://) and points it at the proxy instead of the backend. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = this.host;
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** The backend goes away: every connection through the proxy is reset, new ones are refused. */
  async cut(): Promise<void> {
    this.open = false;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    // Closing the listener makes new connections fail with ECONNREFUSED, like a stopped server.
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The backend is back, on the same port. */
  async restore(): Promise<void> {
    if (this.open) return;
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, resolve);
    });
    this.open = true;
  }

  async stop(): Promise<void> {
    if (this.open) await this.cut();
  }

  private accept(client: net.Socket): void {
    if (!this.open) return void client.destroy();
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** host and port of a backend URL, with the protocol's default port. */
export function targetOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const defaults: Record<string, number> = { 'mysql:': 3306, 'redis:': 6379, 'amqp:': 5672 };
  return { host: parsed.hostname, port: Number(parsed.port || defaults[parsed.protocol]) };
}
