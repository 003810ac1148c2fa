import { floor } from './floor'
import { ours } from './ours'
import { postgres } from './postgres'
import type { Target, TargetName } from './target'

export const TARGETS: Record<TargetName, Target> = { ours, floor, postgres }
