import { floor } from './floor'
import { ours } from './ours'
import type { Target, TargetName } from './target'

export const TARGETS: Record<TargetName, Target> = { ours, floor }
