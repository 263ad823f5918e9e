import { execFileSync } from 'node:child_process';
import { createRegistry, prom, toPrometheusText } from '../src/metrics';

function promtoolCheck(text: string): string {
  return execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
}

async function sampleRegistry() {
  const registry = createRegistry('orders', '1.2.3');
  const requests = new prom.Counter({
    name: 'orders_created_total',
    help: 'Orders created.',
    labelNames: ['status'],
    enableExemplars: true,
    registers: [registry],
  });
  const exemplarLabels: Record<string, string> = { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' };
  requests.inc({
    labels: { status: 'paid' },
    value: 1,
    exemplarLabels,
  });
  return registry;
}

describe('the metrics exposition', () => {
  it('speaks OpenMetrics with exemplars and the build info', async () => {
    const text = await (await sampleRegistry()).metrics();
    expect(text).toContain('orders_created_total{status="paid"} 1 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 1');
    expect(text).toContain('shopnow_build_info{service="orders",version="1.2.3"} 1');
    // Counted by the logger, exposed by every registry (no line may have been written yet).
    expect(text).toContain('# TYPE log_messages counter');
    expect(text).toContain('# TYPE log_message_bytes counter');
    expect(text.trimEnd().endsWith('# EOF')).toBe(true);
  });

  it('converts to the classic text format that promtool accepts', async () => {
    const text = toPrometheusText(await (await sampleRegistry()).metrics());
    expect(text).not.toContain('# EOF');
    expect(text).not.toContain('trace_id');
    expect(text).toContain('# TYPE orders_created_total counter');
    expect(() => promtoolCheck(text)).not.toThrow();
  });

  it('is what promtool rejects before the conversion (the test can fail)', async () => {
    const text = await (await sampleRegistry()).metrics();
    expect(() => promtoolCheck(text)).toThrow();
  });
});
