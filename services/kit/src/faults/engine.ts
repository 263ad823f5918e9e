import { appliesTo, FAULTS, type FaultName, type FaultOptions } from './catalogue';

export interface ActiveFault {
  name: FaultName;
  options: Record<string, unknown>;
  since: string;
}

/**
 * The faults switched on in this process. Code at a `// FAULT(<name>)` branch asks `active(name)`
 * (or `hits(name, path)` for a share of requests) and acts only when it answers.
 */
export interface Faults {
  readonly service: string;
  active<N extends FaultName>(name: N): FaultOptions<N> | undefined;
  /** The options when the fault is on, the path matches its pathPrefix and this request falls in its share. */
  hits<N extends FaultName>(name: N, path: string): FaultOptions<N> | undefined;
  /** Validates the options against the catalogue (throws a zod error) and switches the fault on. */
  set(name: FaultName, options: unknown): ActiveFault;
  clear(name: FaultName): boolean;
  clearAll(): void;
  list(): ActiveFault[];
  /** Called after a fault is set or cleared, for faults that must change real state (a pool size). */
  onChange(listener: (name: FaultName, options: Record<string, unknown> | undefined) => void): void;
}

export function createFaults(service: string, random: () => number = Math.random): Faults {
  const active = new Map<FaultName, ActiveFault>();
  const listeners: Array<(name: FaultName, options: Record<string, unknown> | undefined) => void> = [];
  const notify = (name: FaultName, options: Record<string, unknown> | undefined) =>
    listeners.forEach((listener) => listener(name, options));

  return {
    service,
    active: <N extends FaultName>(name: N) => active.get(name)?.options as FaultOptions<N> | undefined,
    hits<N extends FaultName>(name: N, path: string) {
      const options = active.get(name)?.options as
        (FaultOptions<N> & { pathPrefix?: string; share?: number }) | undefined;
      if (!options) return undefined;
      if (options.pathPrefix && !path.startsWith(options.pathPrefix)) return undefined;
      if (options.share !== undefined && random() >= options.share) return undefined;
      return options;
    },
    set(name, input) {
      if (!appliesTo(name, service)) throw new RangeError(`fault ${name} does not apply to ${service}`);
      if (FAULTS[name].where !== 'service')
        throw new RangeError(`fault ${name} is carried out by the lab, not inside a service`);
      const options = FAULTS[name].options.parse(input ?? {}) as Record<string, unknown>;
      const fault = { name, options, since: new Date().toISOString() };
      active.set(name, fault);
      notify(name, options);
      return fault;
    },
    clear(name) {
      const had = active.delete(name);
      if (had) notify(name, undefined);
      return had;
    },
    clearAll() {
      for (const name of [...active.keys()]) this.clear(name);
    },
    list: () => [...active.values()],
    onChange: (listener) => void listeners.push(listener),
  };
}
