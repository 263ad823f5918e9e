import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** The journeys the generator knows; profiles.json may describe and weigh only these. */
export const JOURNEY_NAMES = ['browse', 'search', 'login', 'checkout', 'noisy-client'] as const;
export type JourneyName = (typeof JOURNEY_NAMES)[number];

const journeyName = z.enum(JOURNEY_NAMES);

const journey = z.strictObject({
  /** How many HTTP requests one journey makes when every step succeeds. */
  requests: z.int().min(1).max(10),
  description: z.string().min(1),
});

const profile = z.strictObject({
  description: z.string().min(1),
  /** HTTP requests per second, over all journeys. */
  rate: z.number().min(0).max(500),
  thinkTimeMs: z
    .strictObject({ min: z.int().min(0).max(60_000), max: z.int().min(0).max(60_000) })
    .refine((think) => think.min <= think.max, 'min must not exceed max'),
  /** Shares of journey starts; only their ratios matter. */
  weights: z
    .partialRecord(journeyName, z.number().min(0))
    .refine((weights) => Object.values(weights).some((weight) => weight > 0), 'needs at least one positive weight'),
});

export const profilesFile = z.strictObject({
  $comment: z.string().optional(),
  /** Anonymous visitors the traffic pretends to be, each named by its own API key. */
  visitors: z.int().min(1).max(10_000),
  journeys: z.strictObject({
    browse: journey,
    search: journey,
    login: journey,
    checkout: journey,
    // One key for all of its requests: that is what makes it one client to the rate limiter.
    'noisy-client': journey.extend({ apiKey: z.string().min(1) }),
  }),
  profiles: z
    .record(z.string().regex(/^[a-z0-9-]+$/), profile)
    .refine((all) => 'default' in all, 'needs a `default` profile'),
});

export type ProfilesFile = z.infer<typeof profilesFile>;
export type Profile = z.infer<typeof profile>;

export class ProfilesError extends Error {}

export const PROFILES_PATH = `${__dirname}/../profiles.json`;

/** Reads and validates profiles.json; a bad file names every problem with its JSON path. */
export function loadProfiles(path = PROFILES_PATH): ProfilesFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ProfilesError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const result = profilesFile.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new ProfilesError(`invalid traffic profiles in ${path}:\n${problems.join('\n')}`);
}

/** Mean requests per journey under these weights: turns a request rate into a journey rate. */
export function requestsPerJourney(file: ProfilesFile, weights: Profile['weights']): number {
  let total = 0;
  let requests = 0;
  for (const name of JOURNEY_NAMES) {
    const weight = weights[name] ?? 0;
    total += weight;
    requests += weight * file.journeys[name].requests;
  }
  return requests / total;
}
