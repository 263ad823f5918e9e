import { LATENCY_BUCKETS, prom, type Faults, type Registry } from '@shopnow/kit';
import { SpanKind, trace } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The payment provider: the one simulated part of the lab, by design. It stands for a remote
 * card processor, so it takes time (latency with jitter) and sometimes says no (declines).
 */
export interface ProviderSettings {
  /** Mean latency of a charge; each call takes between 50 % and 150 % of it. */
  latencyMs: number;
  /** Share of charges declined, 0..1. */
  declineRate: number;
}

export type ChargeResult = { outcome: 'approved' } | { outcome: 'declined'; declineReason: string };

export interface Provider {
  charge(payment: { amountCents: number; currency: string }): Promise<ChargeResult>;
}

const tracer = trace.getTracer('payments');

export function createProvider(settings: ProviderSettings, registry: Registry, faults?: Faults): Provider {
  const duration = new prom.Histogram({
    name: 'payment_provider_request_duration_seconds',
    help: 'Time the payment provider took to answer a charge, by outcome.',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  return {
    charge({ amountCents, currency }) {
      // A span of its own, so that the provider's share of a checkout shows in the trace.
      return tracer.startActiveSpan('payment_provider charge', { kind: SpanKind.CLIENT }, async (span) => {
        const end = duration.startTimer();
        span.setAttributes({ 'payment.amount_cents': amountCents, 'payment.currency': currency });
        // FAULT(slow-provider): the provider's mean latency becomes the fault's ms.
        const latencyMs = faults?.active('slow-provider')?.ms ?? settings.latencyMs;
        await sleep(latencyMs * (0.5 + Math.random()));
        const result: ChargeResult =
          Math.random() < settings.declineRate
            ? { outcome: 'declined', declineReason: 'card_declined' }
            : { outcome: 'approved' };
        span.setAttribute('payment.outcome', result.outcome);
        end({ outcome: result.outcome });
        span.end();
        return result;
      });
    },
  };
}
