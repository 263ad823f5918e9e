import { runRedis, type RedisResult } from '../../core/actions/redis';
import type { LabPaths } from '../../core/paths';
import type { Report } from '../output';

/** A reply as lines: strings as they are (INFO is many lines), arrays one element a line. */
function linesOf(reply: unknown): string[] {
  if (reply === null) return ['(nil)'];
  if (Array.isArray(reply))
    return reply.length ? reply.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))) : ['(empty)'];
  return String(reply).split(/\r?\n/).filter(Boolean);
}

export async function redisCommand(paths: LabPaths, command: string[]): Promise<Report<RedisResult>> {
  const result = await runRedis(paths, command);
  return { data: result, ok: true, sections: [{ lines: linesOf(result.reply) }] };
}
