/**
 * The line in an exported program's header that says how its run scored it,
 * as the `optevo eval` options that score it the same way:
 *
 *   # Evaluation: --seed 7 --suite standard --steps 50 --lrs 0.3,1,3
 *
 * `export --program` writes it; `eval` on that file takes these options
 * unless the command line gives them, so the score it prints is the one the
 * run showed.
 */
import type { SearchConfig } from '../../search/config.js';

export interface EvaluationSettings {
  seed: number;
  suite: string;
  steps?: number;
  lrs?: number[];
}

const PREFIX = 'Evaluation:';

export function formatEvaluationHeader(config: Pick<SearchConfig, 'evalSeed' | 'suite' | 'steps' | 'lrs'>): string {
  const parts = [`--seed ${config.evalSeed}`, `--suite ${config.suite}`];
  if (config.steps !== undefined) parts.push(`--steps ${config.steps}`);
  if (config.lrs.length > 0) parts.push(`--lrs ${config.lrs.join(',')}`);
  return `${PREFIX} ${parts.join(' ')}`;
}

/** The settings from a program's header comment lines, or undefined when it has no Evaluation line. */
export function parseEvaluationHeader(header: readonly string[]): EvaluationSettings | undefined {
  const line = header.map((l) => l.trim()).find((l) => l.startsWith(PREFIX));
  if (line === undefined) return undefined;
  const words = line.slice(PREFIX.length).trim().split(/\s+/);
  const out: Partial<EvaluationSettings> = {};
  for (let i = 0; i + 1 < words.length; i += 2) {
    const [flag, v] = [words[i]!, words[i + 1]!];
    if (flag === '--seed' && /^\d+$/.test(v)) out.seed = Number(v);
    else if (flag === '--suite') out.suite = v;
    else if (flag === '--steps' && /^\d+$/.test(v)) out.steps = Number(v);
    else if (flag === '--lrs') out.lrs = v.split(',').map(Number);
  }
  if (out.seed === undefined || out.suite === undefined) return undefined;
  return out as EvaluationSettings;
}
