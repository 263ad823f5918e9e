// The gateway's floor: a bare node:http reverse proxy, keep-alive, round robin over the catalog
// replicas, `/api` stripped, nothing else (no JWT, rate limit, retries, breaker or telemetry).
// Usage: node bench/raw-proxy.ts PORT UPSTREAM_URL...
import http from 'node:http';

const [port, ...upstreams] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let next = 0;

http
  .createServer((req, res) => {
    const upstream = new URL(upstreams[next++ % upstreams.length]);
    const forward = http.request(
      {
        agent,
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: (req.url ?? '/').replace(/^\/api/, ''),
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  })
  .listen(Number(port), '127.0.0.1', () => process.send?.('listening'));
