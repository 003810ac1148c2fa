/**
 * Several rounds of one scenario on one target -> the one outcome reported. Other work on a
 * shared machine only ever makes a round slower or costlier, so the round with the least server
 * CPU (or memory) per unit of work is the closest to the server itself; its figures are
 * reported together. Counts of what must not happen add up over every round, so a lost
 * delivery in any round fails the run.
 */
import type { Figures, LoadScenario } from './load/job'
import { COUNTS, type Outcome } from './report'

const STEADIEST: Record<Exclude<LoadScenario, 'history' | 'search'>, string> = {
  fanout: 'cpuPerDeliveryUs',
  changes: 'cpuPerDeliveryUs',
  ingest: 'cpuPerMessageUs',
  idle: 'rssPerStreamKiB',
  upload: 'rssGrowthMiB',
}

export function bestRound(scenario: keyof typeof STEADIEST, rounds: Outcome[]): Outcome {
  const failed = rounds.find(round => 'error' in round)
  if (failed) return failed
  const figures = rounds as Figures[]
  const key = STEADIEST[scenario]
  const best = figures.reduce((a, b) => (b[key]! < a[key]! ? b : a))
  const merged: Figures = { ...best }
  for (const count of COUNTS) {
    if (count in best) merged[count] = figures.reduce((sum, round) => sum + round[count]!, 0)
  }
  return merged
}
