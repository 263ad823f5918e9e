import { parser } from '@prometheus-io/lezer-promql';

/**
 * Syntax errors in a PromQL expression, as the Prometheus UI's own grammar sees them: one message
 * per error node, none when the expression parses. Shared by the rule and dashboard checks.
 */
export function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: ...${expr.slice(node.from, node.from + 30)}`);
    },
  });
  return errors;
}
